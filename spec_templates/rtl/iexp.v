// I-BERT integer exp (the softmax numerator), one input per cycle, 2-cycle latency; bit-exact with
// accelerator_baseline.golden.iexp. Reference for the mfm-accel i-exp task (the baseline runs the same
// datapath inside vector_unit).
//   xc = min(x, x_max); z = (xc * z_mul) >> 24 (= floor(xc / q_ln2)); r = xc - z * q_ln2
//   e  = ((q_b - r)^2 + q_c) >> z
module iexp (
    input  wire        clk,
    input  wire        rst,
    input  wire        in_valid,
    input  wire [15:0] x,
    input  wire [15:0] q_ln2,
    input  wire [15:0] q_b,
    input  wire [31:0] q_c,
    input  wire [23:0] z_mul,
    input  wire [15:0] x_max,
    output reg         out_valid,
    output reg  [31:0] e
);
    wire [15:0] xc = (x > x_max) ? x_max : x;
    wire [39:0] zprod = xc * z_mul;
    reg         v1;
    reg  [15:0] xc1, q_ln2_1, q_b1;
    reg  [31:0] q_c1;
    reg  [4:0]  z1;
    wire [20:0] zq = z1 * q_ln2_1;
    wire [15:0] r = xc1 - zq[15:0];
    wire signed [16:0] diff = $signed({1'b0, q_b1}) - $signed({1'b0, r});
    wire signed [33:0] sq = diff * diff;
    wire [34:0] sum = {1'b0, sq} + {3'd0, q_c1};
    always @(posedge clk) begin
        if (rst) begin
            v1 <= 1'b0;
            out_valid <= 1'b0;
        end else begin
            v1 <= in_valid;
            out_valid <= v1;
        end
        xc1 <= xc;
        z1 <= zprod[28:24];
        q_ln2_1 <= q_ln2;
        q_b1 <= q_b;
        q_c1 <= q_c;
        e <= sum >> z1;
    end
endmodule
