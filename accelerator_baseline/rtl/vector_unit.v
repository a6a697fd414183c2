// Vector unit: LANES lanes, one row (token) per lane, for the non-linear kernels of the block.
//
// Row operations (start/op/count, one block of LANES rows at a time, reads and writes by word index j,
// one word = one element of each of the LANES rows; read data arrive one cycle after rd_en):
//   op 0, softmax (I-BERT i-exp): pass 1 row max; pass 2 e = iexp((s - max) >>> pre_shift), sum;
//         reciprocal factor = floor(2^31 / sum) (restoring divider, 32 cycles);
//         pass 3 p = min((e * factor + 2^23) >> 24, 127) written as int8.
//   op 1, LayerNorm over `count` channels: pass 1 S1 = sum x, S2 = sum x^2; var_n = n S2 - S1^2;
//         std = max(isqrt(var_n), 1) (digit-by-digit, 2 bits per cycle, 26 cycles);
//         inv = floor(2^31 / std) (same divider); pass 2 norm15 = ((n x - S1) inv + 2^15) >>> 16,
//         y = sat8(((norm15 gamma_q + 2^(shift-1)) >>> shift) + beta_q), gamma_q/beta_q from pm_data.
// Streaming i-GELU (independent of the row FSM, 3-cycle latency, used in the GEMM output pipeline):
//   q = sat16(x >>> pre_shift); a = min(|q|, q_b) - q_b; y = q (sgn(q) (q_c - a^2) + q_c); bypass if !gelu_en.
// Bit-exact with accelerator_baseline/golden.py (softmax_int, layernorm_int, gelu_int).
// Constant inputs are as wide as their registers; the datapath uses only the bits the golden model's
// constant builders can produce (bounds in golden.py), hence the unused-signal waiver on the ports.
/* verilator lint_off UNUSEDSIGNAL */
module vector_unit #(
    parameter LANES = 16
) (
    input  wire                 clk,
    input  wire                 rst,
    // row operations
    input  wire                 start,
    input  wire                 op,
    input  wire [15:0]          count,
    input  wire [4:0]           sm_pre_shift,
    input  wire [15:0]          sm_qln2,
    input  wire [15:0]          sm_qb,
    input  wire [31:0]          sm_qc,
    input  wire [23:0]          sm_zmul,
    input  wire [15:0]          sm_xmax,
    input  wire [5:0]           ln_shift,
    output wire                 rd_en,
    output wire [15:0]          rd_idx,
    input  wire [LANES*32-1:0]  rd_data,
    input  wire [31:0]          pm_data,
    output reg                  wr_en,
    output reg  [15:0]          wr_idx,
    output wire [LANES*8-1:0]   wr_data,
    output wire                 busy,
    output reg                  done,
    // streaming i-GELU
    input  wire                 gelu_en,
    input  wire [4:0]           gelu_pre_shift,
    input  wire [15:0]          gelu_qb,
    input  wire [31:0]          gelu_qc,
    input  wire [LANES*34-1:0]  gelu_in,
    output wire [LANES*40-1:0]  gelu_out
);
    /* verilator lint_on UNUSEDSIGNAL */
    localparam S_IDLE = 4'd0, S_SM_MAX = 4'd1, S_SM_EXP = 4'd2, S_SM_RECIP = 4'd3, S_SM_NORM = 4'd4,
               S_LN_STATS = 4'd5, S_LN_VARA = 4'd6, S_LN_ISQRT = 4'd7, S_LN_RECIP = 4'd8, S_LN_NORM = 4'd9,
               S_LN_VARB = 4'd10;

    reg  [3:0]  state;
    reg  [15:0] j;
    reg         issuing;
    reg  [5:0]  iter;
    reg         iter_init;
    // pipeline valid bits and word index, stage 1 = read data present
    reg  [7:1]  pv;
    reg  [15:0] pidx1, pidx2, pidx3, pidx4, pidx5, pidx6;

    wire is_pass = (state == S_SM_MAX) | (state == S_SM_EXP) | (state == S_SM_NORM) |
                   (state == S_LN_STATS) | (state == S_LN_NORM);
    wire pass_done = is_pass & ~issuing & (pv == 7'd0);
    assign rd_en = issuing;
    assign rd_idx = j;
    assign busy = (state != S_IDLE);

    always @(posedge clk) begin
        if (rst) begin
            state <= S_IDLE;
            issuing <= 1'b0;
            pv <= 7'd0;
            done <= 1'b0;
            wr_en <= 1'b0;
            iter <= 6'd0;
            iter_init <= 1'b0;
            j <= 16'd0;
        end else begin
            done <= 1'b0;
            iter_init <= 1'b0;
            pv <= {pv[6:1], issuing};
            wr_en <= pv[6] & ((state == S_SM_NORM) | (state == S_LN_NORM));
            if (issuing) begin
                j <= j + 16'd1;
                if (j == count - 16'd1) issuing <= 1'b0;
            end
            case (state)
                S_IDLE: if (start) begin
                    state <= op ? S_LN_STATS : S_SM_MAX;
                    issuing <= 1'b1;
                    j <= 16'd0;
                end
                S_SM_MAX: if (pass_done) begin state <= S_SM_EXP; issuing <= 1'b1; j <= 16'd0; end
                S_SM_EXP: if (pass_done) begin state <= S_SM_RECIP; iter <= 6'd32; iter_init <= 1'b1; end
                S_SM_RECIP, S_LN_RECIP: if (!iter_init) begin
                    if (iter == 6'd0) begin
                        state <= (state == S_SM_RECIP) ? S_SM_NORM : S_LN_NORM;
                        issuing <= 1'b1;
                        j <= 16'd0;
                    end else iter <= iter - 6'd1;
                end
                S_SM_NORM, S_LN_NORM: if (pass_done) begin state <= S_IDLE; done <= 1'b1; end
                S_LN_STATS: if (pass_done) begin state <= S_LN_VARA; iter <= 6'd16; iter_init <= 1'b1; end
                S_LN_VARA, S_LN_VARB: if (!iter_init) begin
                    if (iter == 6'd0) begin
                        state <= (state == S_LN_VARA) ? S_LN_VARB : S_LN_ISQRT;
                        iter <= (state == S_LN_VARA) ? 6'd32 : 6'd26;
                        iter_init <= 1'b1;
                    end else iter <= iter - 6'd1;
                end
                S_LN_ISQRT: if (!iter_init) begin
                    if (iter == 6'd0) begin state <= S_LN_RECIP; iter <= 6'd32; iter_init <= 1'b1; end
                    else iter <= iter - 6'd1;
                end
                default: state <= S_IDLE;
            endcase
        end
        pidx1 <= j;
        pidx2 <= pidx1;
        pidx3 <= pidx2;
        pidx4 <= pidx3;
        pidx5 <= pidx4;
        pidx6 <= pidx5;
        wr_idx <= pidx6;
    end

    // Per-channel LayerNorm parameters travel with the word index (pm_data arrives with rd_data).
    reg signed [15:0] gq2, gq3, gq4;
    reg signed [15:0] bq2, bq3, bq4, bq5;
    always @(posedge clk) begin
        gq2 <= pm_data[31:16]; gq3 <= gq2; gq4 <= gq3;
        bq2 <= pm_data[15:0];  bq3 <= bq2; bq4 <= bq3; bq5 <= bq4;
    end

    wire first1 = (pidx1 == 16'd0);
    wire first5 = (pidx5 == 16'd0);
    wire [4:0] div_bit = iter[4:0] - 5'd1;  // quotient bit produced in this divider step

    // Datapath widths follow the proven value bounds in golden.py; wider intermediate bits are unused.
    /* verilator lint_off UNUSEDSIGNAL */
    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : g_lane
            wire signed [31:0] s = rd_data[l*32 +: 32];
            wire signed [15:0] x16 = rd_data[l*32 +: 16];
            wire signed [31:0] xsq = x16 * x16;
            reg  signed [31:0] row_max;
            reg         [31:0] row_sum;
            reg  signed [31:0] s1;
            reg         [47:0] s2;
            reg         [53:0] var_n;    // n S2 - S1^2 by shift-and-add (mod 2^54; the result is < 2^52)
            reg         [53:0] mop;      // shifted multiplicand
            reg         [31:0] mbits;    // remaining multiplier bits, LSB first
            reg         [51:0] vsh;
            reg         [27:0] sq_rem;   // remainder <= 2 root < 2^27
            reg         [25:0] root;
            reg         [32:0] rem;
            reg         [31:0] quo;
            // softmax pipeline
            reg         [13:0] xc2, xc3;     // x <= 30 q_ln2 < 2^14
            reg         [4:0]  z3, z4;
            reg         [13:0] r4;           // r < q_ln2 < 2^9
            reg         [21:0] e5;           // e <= q_b^2 + q_c < 2^21
            // LayerNorm pipeline
            reg  signed [33:0] a2;
            reg  signed [59:0] t3;
            reg  signed [23:0] n4;           // |norm15| < 2^22
            reg  signed [39:0] u5;
            reg         [60:0] r6;           // e * factor (softmax)
            reg         [7:0]  o6, out7;

            // stage 1 -> 2: subtract max, pre-shift, clamp (softmax); n x - S1 (LayerNorm)
            wire signed [32:0] dlt = {s[31], s} - {row_max[31], row_max};
            wire signed [32:0] dsh = dlt >>> sm_pre_shift;
            wire signed [33:0] negd = -{dsh[32], dsh};
            wire               clamp = negd > $signed({18'd0, sm_xmax});
            // stage 2 -> 3: z = floor(x / q_ln2) by multiplication
            wire        [35:0] zprod = xc2 * sm_zmul[21:0];
            // stage 3 -> 4: r = x - z q_ln2
            wire        [13:0] zq = z3 * sm_qln2[8:0];
            // stage 4 -> 5: e = ((q_b - r)^2 + q_c) >> z
            wire        [9:0]  diff = sm_qb[9:0] - r4[9:0];     // in [1, q_b], q_b < 2^10
            wire        [19:0] sq = diff * diff;
            wire        [21:0] e0 = {2'd0, sq} + sm_qc[21:0];
            // stage 5 -> 6: p = min((e factor + 2^23) >> 24, 127)
            // one multiplier by the reciprocal, shared: e * factor (softmax pass 3), (n x - S1) * inv (LayerNorm)
            wire signed [27:0] mul_a = (state == S_SM_NORM) ? {6'd0, e5} : a2[27:0];
            wire signed [60:0] rprod = mul_a * $signed({1'b0, quo});
            wire        [60:0] pr = (r6 + 61'd8388608) >> 24;
            // LayerNorm stage 2 -> 3 ... 5 -> 6
            wire signed [59:0] t2 = (t3 + 60'sd32768) >>> 16;  // |norm15| < 2^22: low 24 bits kept
            wire signed [39:0] uprod = n4 * gq4;
            wire signed [43:0] u5x = {{4{u5[39]}}, u5};
            wire signed [43:0] lrnd = $signed({{43{1'b0}}, 1'b1} << (ln_shift - 6'd1));
            wire signed [43:0] ulr = (u5x + lrnd) >>> ln_shift;
            wire signed [44:0] ly = {ulr[43], ulr} + {{29{bq5[15]}}, bq5};
            wire signed [33:0] s1x = {{2{s1[31]}}, s1};
            wire        [31:0] s1abs = s1[31] ? -s1 : s1;
            // divider step (num = 2^31) and isqrt step
            wire        [32:0] rem_sh = {rem[31:0], (div_bit == 5'd31)};
            wire        [31:0] divisor = (state == S_SM_RECIP) ? row_sum : ((root == 26'd0) ? 32'd1 : {6'd0, root});
            wire               take = rem_sh >= {1'b0, divisor};
            wire        [29:0] sq_sh = {sq_rem, vsh[51:50]};
            wire        [29:0] trial = {2'b00, root, 2'b01};
            wire               sq_take = sq_sh >= trial;

            always @(posedge clk) begin
                // pass 1: max / statistics
                if (pv[1] && state == S_SM_MAX) row_max <= (first1 || s > row_max) ? s : row_max;
                if (pv[1] && state == S_LN_STATS) begin
                    s1 <= (first1 ? 32'sd0 : s1) + {{16{x16[15]}}, x16};
                    s2 <= (first1 ? 48'd0 : s2) + {16'd0, xsq};
                end
                // exp / normalise pipeline
                xc2 <= clamp ? sm_xmax[13:0] : negd[13:0];
                a2 <= $signed({1'b0, count[10:0]}) * x16 - s1x;   // n <= 1024
                xc3 <= xc2;
                z3 <= zprod[28:24];
                t3 <= rprod[59:0];
                z4 <= z3;
                r4 <= xc3 - zq;
                n4 <= t2[23:0];
                e5 <= e0 >> z4;
                u5 <= uprod;
                if (pv[5] && state == S_SM_EXP) row_sum <= (first5 ? 32'd0 : row_sum) + {10'd0, e5};
                r6 <= rprod;
                o6 <= (ly > 45'sd127) ? 8'd127 : (ly < -45'sd128) ? 8'h80 : ly[7:0];
                out7 <= (state == S_SM_NORM) ? ((pr > 61'd127) ? 8'd127 : pr[7:0]) : o6;
                // variance, square root, reciprocal
                if (iter_init && state == S_LN_VARA) begin
                    var_n <= 54'd0;
                    mop <= {6'd0, s2};
                    mbits <= {16'd0, count};
                end else if (iter_init && state == S_LN_VARB) begin
                    mop <= {22'd0, s1abs};
                    mbits <= s1abs;
                end else if ((state == S_LN_VARA || state == S_LN_VARB) && iter != 6'd0) begin
                    if (mbits[0]) var_n <= (state == S_LN_VARA) ? var_n + mop : var_n - mop;
                    mop <= mop << 1;
                    mbits <= mbits >> 1;
                end
                if (iter_init && state == S_LN_ISQRT) begin
                    vsh <= var_n[51:0];
                    sq_rem <= 28'd0;
                    root <= 26'd0;
                end else if (state == S_LN_ISQRT && iter != 6'd0) begin
                    vsh <= vsh << 2;
                    sq_rem <= sq_take ? sq_sh[27:0] - trial[27:0] : sq_sh[27:0];
                    root <= {root[24:0], sq_take};
                end
                if (iter_init && (state == S_SM_RECIP || state == S_LN_RECIP)) begin
                    rem <= 33'd0;
                    quo <= 32'd0;
                end else if ((state == S_SM_RECIP || state == S_LN_RECIP) && iter != 6'd0) begin
                    rem <= take ? rem_sh - {1'b0, divisor} : rem_sh;
                    quo <= {quo[30:0], take};
                end
            end
            assign wr_data[l*8 +: 8] = out7;

            // streaming i-GELU
            wire signed [33:0] gx = gelu_in[l*34 +: 34];
            wire signed [33:0] gsh = gx >>> gelu_pre_shift;
            wire signed [15:0] gq = (gsh > 34'sd32767) ? 16'sd32767 : (gsh < -34'sd32768) ? -16'sd32768 : gsh[15:0];
            wire signed [16:0] gabs = gq[15] ? -{gq[15], gq} : {gq[15], gq};
            wire signed [16:0] gqb = $signed({1'b0, gelu_qb});
            reg                gen1, gen2;
            reg  signed [15:0] gqd2;
            reg  signed [33:0] gx2;
            reg  signed [21:0] gsum2;
            reg  signed [10:0] ga1;          // min(|q|, q_b) - q_b in [-q_b, 0], q_b < 2^9
            reg  signed [15:0] gq1;
            reg  signed [33:0] gx1;
            reg  signed [39:0] gy;
            wire signed [21:0] ga2 = ga1 * ga1;
            wire signed [21:0] gqc = $signed({2'b0, gelu_qc[19:0]});   // q_c < 2^19
            wire signed [21:0] gmag = gqc - ga2;
            wire signed [21:0] gerf = gq1[15] ? -gmag : ((gq1 == 16'sd0) ? 22'sd0 : gmag);
            wire signed [21:0] gsum = gerf + gqc;                       // in [0, 2 q_c]
            wire signed [37:0] gprod = gqd2 * gsum2;
            always @(posedge clk) begin
                gen1 <= gelu_en;
                ga1 <= ((gabs < gqb) ? gabs[10:0] : gqb[10:0]) - gqb[10:0];
                gq1 <= gq;
                gx1 <= gx;
                gen2 <= gen1;
                gqd2 <= gq1;
                gx2 <= gx1;
                gsum2 <= gsum;
                gy <= gen2 ? {{2{gprod[37]}}, gprod} : {{6{gx2[33]}}, gx2};
            end
            assign gelu_out[l*40 +: 40] = gy;
        end
    endgenerate
    /* verilator lint_on UNUSEDSIGNAL */
endmodule
