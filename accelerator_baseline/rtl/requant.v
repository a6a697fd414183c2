// Requantisation, LANES lanes, 4-cycle latency (multiply | add rounding | shift | residual, saturate):
//   y = sat((x * mult + 2^(shift-1)) >>> shift + residual)
// x: IN_W-bit signed (accumulator + bias, or i-GELU output); mult: 15-bit unsigned; shift: 1..63.
// res_en = 0: no residual, saturate to int8 (sign-extended to 16 bits);
// res_en = 1: add the int8 residual, saturate to int16 (input of LayerNorm).
module requant #(
    parameter LANES = 16,
    parameter IN_W = 40
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire                  in_valid,
    input  wire [LANES*IN_W-1:0] in_vec,
    input  wire [LANES*8-1:0]    res_vec,
    input  wire                  res_en,
    input  wire [14:0]           mult,
    input  wire [5:0]            shift,
    output reg                   out_valid,
    output wire [LANES*16-1:0]   out_vec
);
    localparam PW = IN_W + 16;   // product width
    localparam SW = 66;          // rounding/shift width: 2^(shift-1) for shift <= 63 and the product fit

    reg          v1, v2, v3;
    reg          res_en1, res_en2, res_en3;
    reg  [5:0]   shift1, shift2;
    reg  signed [SW-1:0] rounding;   // 2^(shift-1), shared by the lanes

    always @(posedge clk) begin
        if (rst) begin
            v1 <= 1'b0;
            v2 <= 1'b0;
            v3 <= 1'b0;
            out_valid <= 1'b0;
        end else begin
            v1 <= in_valid;
            v2 <= v1;
            v3 <= v2;
            out_valid <= v3;
        end
        res_en1 <= res_en;
        res_en2 <= res_en1;
        res_en3 <= res_en2;
        shift1 <= shift;
        shift2 <= shift1;
        rounding <= $signed({{(SW-1){1'b0}}, 1'b1} << (shift - 6'd1));
    end

    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : g_lane
            reg  signed [PW-1:0] prod;
            reg  signed [7:0]    res1, res2, res3;
            reg  signed [SW-1:0] rounded, scaled;
            reg  signed [15:0]   y;
            wire signed [IN_W-1:0] x = in_vec[l*IN_W +: IN_W];
            wire signed [SW-1:0] prod_x = {{(SW-PW){prod[PW-1]}}, prod};
            wire signed [SW:0]   with_res = {scaled[SW-1], scaled} +
                                            (res_en3 ? {{(SW-7){res3[7]}}, res3} : {(SW+1){1'b0}});
            wire signed [SW:0]   hi = res_en3 ? 32767 : 127;
            wire signed [SW:0]   lo = res_en3 ? -32768 : -128;
            always @(posedge clk) begin
                prod <= x * $signed({1'b0, mult});
                res1 <= res_vec[l*8 +: 8];
                rounded <= prod_x + rounding;
                res2 <= res1;
                scaled <= rounded >>> shift2;
                res3 <= res2;
                y <= (with_res > hi) ? hi[15:0] : (with_res < lo) ? lo[15:0] : with_res[15:0];
            end
            assign out_vec[l*16 +: 16] = y;
        end
    endgenerate
endmodule
