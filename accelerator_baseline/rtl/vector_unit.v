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
// Pipeline: read data registered at the input, 8 stages to the write (a pass costs its words + 9 cycles).
// Bit-exact with accelerator_baseline/golden.py (softmax_int, layernorm_int); the GELU is igelu.v.
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
    output reg                  done
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
    // pipeline valid bits and word index; stage 1 = read data present, stage 2 = read data registered,
    // stage 9 = result written
    reg  [8:1]  pv;
    reg  [15:0] pidx1, pidx2, pidx3, pidx4, pidx5, pidx6, pidx7, pidx8;

    wire is_pass = (state == S_SM_MAX) | (state == S_SM_EXP) | (state == S_SM_NORM) |
                   (state == S_LN_STATS) | (state == S_LN_NORM);
    wire pass_done = is_pass & ~issuing & (pv == 8'd0);
    assign rd_en = issuing;
    assign rd_idx = j;
    assign busy = (state != S_IDLE);

    always @(posedge clk) begin
        if (rst) begin
            state <= S_IDLE;
            issuing <= 1'b0;
            pv <= 8'd0;
            done <= 1'b0;
            wr_en <= 1'b0;
            iter <= 6'd0;
            iter_init <= 1'b0;
            j <= 16'd0;
        end else begin
            done <= 1'b0;
            iter_init <= 1'b0;
            pv <= {pv[7:1], issuing};
            wr_en <= pv[8] & ((state == S_SM_NORM) | (state == S_LN_NORM));
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
        pidx7 <= pidx6;
        pidx8 <= pidx7;
        wr_idx <= pidx8;
    end

    // Per-channel LayerNorm parameters travel with the word index (pm_data arrives with rd_data).
    reg signed [15:0] gq2, gq3, gq4, gq5, gq6;
    reg signed [15:0] bq2, bq3, bq4, bq5, bq6, bq7, bq8;
    always @(posedge clk) begin
        gq2 <= pm_data[31:16]; gq3 <= gq2; gq4 <= gq3; gq5 <= gq4; gq6 <= gq5;
        bq2 <= pm_data[15:0];  bq3 <= bq2; bq4 <= bq3; bq5 <= bq4; bq6 <= bq5; bq7 <= bq6; bq8 <= bq7;
    end

    wire first2 = (pidx2 == 16'd0);
    wire first6 = (pidx6 == 16'd0);
    wire [4:0] div_bit = iter[4:0] - 5'd1;  // quotient bit produced in this divider step

    // Datapath widths follow the proven value bounds in golden.py; wider intermediate bits are unused.
    /* verilator lint_off UNUSEDSIGNAL */
    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : g_lane
            reg         [31:0] rdq;          // read data, registered at the unit's input (stage 2)
            wire signed [31:0] s = rdq;
            wire signed [15:0] x16 = rdq[15:0];
            wire signed [31:0] xsq = x16 * x16;
            reg  signed [31:0] row_max;
            reg         [31:0] row_sum;
            reg  signed [31:0] s1;
            reg         [47:0] s2;
            reg         [26:0] var_lo, var_hi;   // var_n = n S2 - S1^2 (mod 2^54; the result is < 2^52) in two
            reg                var_c;            // halves, the low half's carry added to the high half a step later
            reg         [53:0] mop;              // shifted multiplicand
            reg         [31:0] mbits;            // remaining multiplier bits, LSB first
            reg         [51:0] vsh;
            reg         [27:0] sq_rem;   // remainder <= 2 root < 2^27
            reg         [25:0] root;
            reg         [32:0] rem;
            reg         [31:0] quo;
            // softmax pipeline
            reg         [13:0] xc3, xc4;     // x <= 30 q_ln2 < 2^14
            reg         [4:0]  z4, z5;
            reg         [13:0] r5;           // r < q_ln2 < 2^9
            reg         [21:0] e6;           // e <= q_b^2 + q_c < 2^21
            // LayerNorm pipeline
            reg  signed [33:0] a3;
            reg  signed [23:0] n6;           // |norm15| < 2^22
            reg  signed [39:0] u7;
            reg  signed [43:0] ul8;          // (u + 2^(shift-1)) >>> shift
            // the multiplier by the reciprocal, shared: (n x - S1) * inv (LayerNorm, operand at stage 3) and
            // e * factor (softmax pass 3, operand at stage 6); two partial products, then their sum
            reg  signed [44:0] pp_lo;        // a * quo[15:0]
            reg  signed [44:0] pp_hi;        // a * quo[31:16]
            reg  signed [60:0] psum;         // stage 5 for LayerNorm, stage 8 for softmax
            reg         [7:0]  out9;

            // stage 2 -> 3: subtract max, pre-shift, clamp (softmax); n x - S1 (LayerNorm)
            wire signed [32:0] dlt = {s[31], s} - {row_max[31], row_max};
            wire signed [32:0] dsh = dlt >>> sm_pre_shift;
            wire signed [33:0] negd = -{dsh[32], dsh};
            wire               clamp = negd > $signed({18'd0, sm_xmax});
            // stage 3 -> 4: z = floor(x / q_ln2) by multiplication
            wire        [35:0] zprod = xc3 * sm_zmul[21:0];
            // stage 4 -> 5: r = x - z q_ln2
            wire        [13:0] zq = z4 * sm_qln2[8:0];
            // stage 5 -> 6: e = ((q_b - r)^2 + q_c) >> z
            wire        [9:0]  diff = sm_qb[9:0] - r5[9:0];     // in [1, q_b], q_b < 2^10
            wire        [19:0] sq = diff * diff;
            wire        [21:0] e0 = {2'd0, sq} + sm_qc[21:0];
            // shared multiplier
            wire signed [27:0] mul_a = (state == S_SM_NORM) ? {6'd0, e6} : a3[27:0];
            wire signed [60:0] psum_next = {{16{pp_lo[44]}}, pp_lo} + {pp_hi, 16'd0};
            // softmax stage 8 -> 9: p = min((e factor + 2^23) >> 24, 127)
            wire        [60:0] pr = (psum + 61'd8388608) >> 24;
            // LayerNorm stage 5 -> 6: norm15 = ((n x - S1) inv + 2^15) >>> 16 (|norm15| < 2^22: 24 bits kept)
            wire signed [60:0] t2 = (psum + 61'sd32768) >>> 16;
            // stage 6 -> 7: norm15 gamma_q; stage 7 -> 8: round and shift; stage 8 -> 9: + beta_q, saturate
            wire signed [39:0] uprod = n6 * gq6;
            wire signed [43:0] u7x = {{4{u7[39]}}, u7};
            wire signed [43:0] lrnd = $signed({{43{1'b0}}, 1'b1} << (ln_shift - 6'd1));
            wire signed [44:0] ly = {ul8[43], ul8} + {{29{bq8[15]}}, bq8};
            wire signed [33:0] s1x = {{2{s1[31]}}, s1};
            wire        [31:0] s1abs = s1[31] ? -s1 : s1;
            // variance step: var_n +/- mop in two 27-bit halves
            wire               var_add = (state == S_LN_VARA || state == S_LN_VARB) && !iter_init &&
                                         iter != 6'd0 && mbits[0];
            wire               var_sub = var_add && (state == S_LN_VARB);
            wire        [53:0] addend = var_add ? (var_sub ? ~mop : mop) : 54'd0;
            wire        [27:0] lo_sum = {1'b0, var_lo} + {1'b0, addend[26:0]} + {27'd0, var_sub};
            wire        [26:0] hi_sum = var_hi + addend[53:27] + {26'd0, var_c};
            // divider step (num = 2^31) and isqrt step
            wire        [32:0] rem_sh = {rem[31:0], (div_bit == 5'd31)};
            wire        [31:0] divisor = (state == S_SM_RECIP) ? row_sum : ((root == 26'd0) ? 32'd1 : {6'd0, root});
            wire               take = rem_sh >= {1'b0, divisor};
            wire        [29:0] sq_sh = {sq_rem, vsh[51:50]};
            wire        [29:0] trial = {2'b00, root, 2'b01};
            wire               sq_take = sq_sh >= trial;

            always @(posedge clk) begin
                rdq <= rd_data[l*32 +: 32];
                // pass 1: max / statistics
                if (pv[2] && state == S_SM_MAX) row_max <= (first2 || s > row_max) ? s : row_max;
                if (pv[2] && state == S_LN_STATS) begin
                    s1 <= (first2 ? 32'sd0 : s1) + {{16{x16[15]}}, x16};
                    s2 <= (first2 ? 48'd0 : s2) + {16'd0, xsq};
                end
                // exp / normalise pipeline
                xc3 <= clamp ? sm_xmax[13:0] : negd[13:0];
                a3 <= $signed({1'b0, count[10:0]}) * x16 - s1x;   // n <= 1024
                xc4 <= xc3;
                z4 <= zprod[28:24];
                z5 <= z4;
                r5 <= xc4 - zq;
                e6 <= e0 >> z5;
                if (pv[6] && state == S_SM_EXP) row_sum <= (first6 ? 32'd0 : row_sum) + {10'd0, e6};
                pp_lo <= mul_a * $signed({1'b0, quo[15:0]});
                pp_hi <= mul_a * $signed({1'b0, quo[31:16]});
                psum <= psum_next;
                n6 <= t2[23:0];
                u7 <= uprod;
                ul8 <= (u7x + lrnd) >>> ln_shift;
                out9 <= (state == S_SM_NORM) ? ((pr > 61'd127) ? 8'd127 : pr[7:0])
                                             : ((ly > 45'sd127) ? 8'd127 : (ly < -45'sd128) ? 8'h80 : ly[7:0]);
                // variance, square root, reciprocal
                if (iter_init && state == S_LN_VARA) begin
                    var_lo <= 27'd0;
                    var_hi <= 27'd0;
                    var_c <= 1'b0;
                    mop <= {6'd0, s2};
                    mbits <= {16'd0, count};
                end else begin
                    if (iter_init && state == S_LN_VARB) begin
                        mop <= {22'd0, s1abs};
                        mbits <= s1abs;
                    end else if ((state == S_LN_VARA || state == S_LN_VARB) && iter != 6'd0) begin
                        mop <= mop << 1;
                        mbits <= mbits >> 1;
                    end
                    if (state == S_LN_VARA || state == S_LN_VARB) begin   // the iter == 0 cycle absorbs the carry
                        var_lo <= lo_sum[26:0];
                        var_c <= lo_sum[27];
                        var_hi <= hi_sum;
                    end
                end
                if (iter_init && state == S_LN_ISQRT) begin
                    vsh <= {var_hi[24:0], var_lo};
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
            assign wr_data[l*8 +: 8] = out9;
        end
    endgenerate
    /* verilator lint_on UNUSEDSIGNAL */
endmodule
