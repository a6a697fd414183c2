// Streaming i-GELU (I-BERT), LANES lanes, 3-cycle latency, one beat per cycle, bit-exact with
// accelerator_baseline.golden.gelu_int. qblock_top runs it on every GEMM output column (bypassed except in MLP1).
//   q = sat16(x >>> pre_shift); a = min(|q|, qb) - qb; y = q * (sgn(q) * (qc - a*a) + qc)
//   gelu_en = 0: y = x (sign-extended to 40 bits)
// Stages: shift, clamp, |q|, a | a*a, erf, erf + qc | q * (erf + qc). Widths follow the bounds of
// golden.gelu_constants (qb < 2^9, qc < 2^19); the unused constant bits are waived.
module igelu #(
    parameter LANES = 4
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 in_valid,
    input  wire                 gelu_en,
    input  wire [4:0]           pre_shift,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [15:0]          qb,
    input  wire [31:0]          qc,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [LANES*34-1:0]  in_vec,
    output reg                  out_valid,
    output wire [LANES*40-1:0]  out_vec
);
    reg v1, v2, en1, en2;
    always @(posedge clk) begin
        if (rst) begin
            v1 <= 1'b0;
            v2 <= 1'b0;
            out_valid <= 1'b0;
        end else begin
            v1 <= in_valid;
            v2 <= v1;
            out_valid <= v2;
        end
        en1 <= gelu_en;
        en2 <= en1;
    end

    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : g_lane
            wire signed [33:0] x = in_vec[l*34 +: 34];
            wire signed [33:0] xs = x >>> pre_shift;
            wire signed [15:0] q = (xs > 34'sd32767) ? 16'sd32767 : (xs < -34'sd32768) ? -16'sd32768 : xs[15:0];
            wire signed [16:0] qabs = q[15] ? -{q[15], q} : {q[15], q};
            wire signed [16:0] qbs = $signed({1'b0, qb});
            reg  signed [10:0] a1;           // min(|q|, qb) - qb in [-qb, 0]
            reg  signed [15:0] q1, q2;
            reg  signed [33:0] x1, x2;
            reg  signed [21:0] sum2;
            reg  signed [39:0] y;
            wire signed [21:0] a_sq = a1 * a1;
            wire signed [21:0] qcs = $signed({2'b0, qc[19:0]});
            wire signed [21:0] mag = qcs - a_sq;
            wire signed [21:0] erf = q1[15] ? -mag : ((q1 == 16'sd0) ? 22'sd0 : mag);
            wire signed [37:0] prod = q2 * sum2;
            always @(posedge clk) begin
                a1 <= ((qabs < qbs) ? qabs[10:0] : qbs[10:0]) - qbs[10:0];
                q1 <= q;
                x1 <= x;
                q2 <= q1;
                x2 <= x1;
                sum2 <= erf + qcs;           // in [0, 2 qc]
                y <= en2 ? {{2{prod[37]}}, prod} : {{6{x2[33]}}, x2};
            end
            assign out_vec[l*40 +: 40] = y;
        end
    endgenerate
endmodule
