// Streaming i-GELU (I-BERT), LANES lanes, 2-cycle latency, bit-exact with accelerator_baseline.golden.gelu_int.
// Reference for the derived GELU unit spec; the datapath is the streaming GELU of the baseline vector_unit
// with a valid pipeline added.
//   q = sat16(x >>> pre_shift); a = min(|q|, qb) - qb; y = q * (sgn(q) * (qc - a*a) + qc)
//   gelu_en = 0: y = x (sign-extended to 40 bits)
module igelu #(
    parameter LANES = 4
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 in_valid,
    input  wire                 gelu_en,
    input  wire [4:0]           pre_shift,
    input  wire [15:0]          qb,
    input  wire [31:0]          qc,
    input  wire [LANES*34-1:0]  in_vec,
    output reg                  out_valid,
    output wire [LANES*40-1:0]  out_vec
);
    reg v1, en1;
    reg [31:0] qc1;
    always @(posedge clk) begin
        if (rst) begin
            v1 <= 1'b0;
            out_valid <= 1'b0;
        end else begin
            v1 <= in_valid;
            out_valid <= v1;
        end
        en1 <= gelu_en;
        qc1 <= qc;
    end

    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : g_lane
            wire signed [33:0] x = in_vec[l*34 +: 34];
            wire signed [33:0] xs = x >>> pre_shift;
            wire signed [15:0] q = (xs > 34'sd32767) ? 16'sd32767 : (xs < -34'sd32768) ? -16'sd32768 : xs[15:0];
            wire signed [16:0] qabs = q[15] ? -{q[15], q} : {q[15], q};
            wire signed [16:0] qbs = $signed({1'b0, qb});
            reg  signed [16:0] a1;
            reg  signed [15:0] q1;
            reg  signed [33:0] x1;
            reg  signed [39:0] y;
            wire signed [33:0] a2 = a1 * a1;
            wire signed [33:0] qcs = $signed({2'b0, qc1});
            wire signed [33:0] mag = qcs - a2;
            wire signed [33:0] erf = q1[15] ? -mag : ((q1 == 16'sd0) ? 34'sd0 : mag);
            wire signed [39:0] sum = {{6{erf[33]}}, erf} + {{6{qcs[33]}}, qcs};
            wire signed [39:0] prod = q1 * sum;
            always @(posedge clk) begin
                a1 <= ((qabs < qbs) ? qabs : qbs) - qbs;
                q1 <= q;
                x1 <= x;
                y <= en1 ? prod : {{6{x1[33]}}, x1};
            end
            assign out_vec[l*40 +: 40] = y;
        end
    endgenerate
endmodule
