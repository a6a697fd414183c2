// qblock_top: one integer-only post-LN transformer encoder block on an R x R output-stationary array.
//
// Two engines run concurrently, synchronised per block of R rows (a "row block", R tokens):
//   array program (GEMMs, in order): Q, K, V^T, QK^T_0, then per head h >= 1: QK^T_h, AV_(h-1); AV_(H-1),
//       out-proj (+x), MLP1 (+GELU), MLP2 (+h1). Each GEMM walks its row blocks in order; a row block starts as
//       soon as its operands are ready (K / V^T complete, probabilities of that row block, attention output,
//       LayerNorm output, MLP1 output), otherwise the feeder waits.
//   vector unit (row operations, in the order their inputs complete): softmax of every QK^T row block,
//       LayerNorm 1 of every out-proj row block, LayerNorm 2 of every MLP2 row block.
// Softmax of head h therefore overlaps QK^T of head h+1 (scores and probabilities have two banks), and
// LayerNorm of row block i overlaps the GEMMs of row block i+1. GEMM tiles stream back to back (a tile lasts
// max(K, R) beats); results leave the array as column words through bias add, i-GELU, requant (+ residual).
//
// Double buffering: weights, biases, LayerNorm parameters and the constant registers have two banks; loads
// and register writes always go to the bank the next START runs, so the next layer's weights load while this
// block computes. LayerNorm 2 writes the block output over the input x (dead by then): a second START runs
// the next layer on it without reloading activations.
//
// Host interface (valid/ready streams and a register port):
//   cfg_*: 0x00 CTRL (w: bit0 start; r: {busy, done}), 0x01 CYCLES (r: cycles of the last block),
//          0x02 LD_SEL (0 weights, 1 activations x, 2 biases, 3 LayerNorm params), 0x03 LD_ADDR,
//          0x04 RD_ADDR, 0x05 RD_COUNT (w: stream RD_COUNT words of x / the block output from RD_ADDR),
//          0x10..0x16 requant {shift[21:16], mult[14:0]} for Q, K, V, O, PROJ, MLP1, MLP2,
//          0x18..0x1D softmax pre_shift, q_ln2, q_b, q_c, z_mul, x_max, 0x20..0x22 GELU pre_shift, q_b, q_c,
//          0x28, 0x29 LN1 / LN2 shift.
//   ld_*:  load stream, one buffer word per beat at LD_ADDR++ of buffer LD_SEL (activations only while idle).
//   out_*: result stream (R int8 per word) started by RD_COUNT while idle.
// Buffer layouts (words of R lanes) are documented in accelerator_baseline/hwmap.py.
module qblock_top #(
    parameter R = 16,
    parameter L = 16,
    parameter D = 32,
    parameter H = 2,
    parameter DFF = 64,
    parameter VL = R        // vector-unit lanes: a row block of R rows is processed in R / VL groups
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              cfg_we,
    input  wire [7:0]        cfg_addr,
    input  wire [31:0]       cfg_wdata,
    output reg  [31:0]       cfg_rdata,
    input  wire              ld_valid,
    output wire              ld_ready,
    input  wire [R*32-1:0]   ld_data,
    output reg               out_valid,
    input  wire              out_ready,
    output wire [R*8-1:0]    out_data,
    output wire              busy,
    output reg               done,
    output wire [3:0]        dbg_step,
    output wire [7:0]        dbg_head,
    output wire              dbg_feed,
    output wire              dbg_wr,
    output wire [3:0]        dbg_wr_step,
    output wire [3:0]        dbg_vec_step,
    output wire [7:0]        dbg_vec_head
);
    // ------------------------------------------------------------------ shapes and buffer regions
    // Region sizes are constant expressions evaluated at 32 bits and stored at the 24-bit address width.
    /* verilator lint_off WIDTH */
    localparam [23:0] DH = D / H;
    localparam [23:0] WL = L / R;
    localparam [23:0] R24 = R, L24 = L, D24 = D, DFF24 = DFF;
    // x buffer (R int8, written by the vector unit and the host): x / block output, probabilities (2 banks), h1
    localparam [23:0] X_BASE = 0, P_BASE = WL * D, P_BANK = WL * L, H_BASE = P_BASE + 2 * WL * L;
    localparam [23:0] XB_DEPTH = H_BASE + WL * D;
    // GEMM output buffer (R int8): Q, K, V^T, attention output O, MLP1 output G
    localparam [23:0] Q_BASE = 0, K_BASE = WL * D, V_BASE = 2 * WL * D, O_BASE = 3 * WL * D, G_BASE = 4 * WL * D;
    localparam [23:0] AB_DEPTH = G_BASE + WL * DFF;
    // weights (R int8 per word), one bank
    localparam [23:0] WQ_BASE = 0, WK_BASE = D * D / R, WV_BASE = 2 * D * D / R, WO_BASE = 3 * D * D / R;
    localparam [23:0] W1_BASE = 4 * D * D / R, W2_BASE = W1_BASE + DFF * D / R, W_DEPTH = W2_BASE + D * DFF / R;
    // biases (R int32 per word), one bank
    localparam [23:0] BQ_BASE = 0, BK_BASE = D / R, BV_BASE = 2 * D / R, BO_BASE = 3 * D / R, B1_BASE = 4 * D / R;
    localparam [23:0] B2_BASE = B1_BASE + DFF / R, B_DEPTH = B2_BASE + D / R;
    // scores (R int32, 2 banks), residual sums (R int16), LayerNorm parameters (one bank: LN1 then LN2)
    localparam [23:0] S_BANK = WL * L, S_DEPTH = 2 * WL * L, RS_DEPTH = WL * D, PM_DEPTH = 2 * D;
    localparam XB_AW = $clog2(XB_DEPTH), AB_AW = $clog2(AB_DEPTH), W_AW = $clog2(W_DEPTH);
    localparam B_AW = (B_DEPTH > 1) ? $clog2(B_DEPTH) : 1, S_AW = $clog2(S_DEPTH);
    localparam RS_AW = (RS_DEPTH > 1) ? $clog2(RS_DEPTH) : 1, PM_AW = $clog2(PM_DEPTH);
    localparam CW = (R > 1) ? $clog2(R) : 1;
    localparam MW = (WL > 1) ? $clog2(WL) : 1;           // row-block index width
    localparam VQ_AW = $clog2(4 * WL + 4);               // vector task queue
    localparam [7:0] H8 = H;
    /* verilator lint_on WIDTH */
    localparam integer LAST_COL = R - 1;
    localparam integer NWL = L / R;
    localparam integer NG = R / VL;                      // vector-unit groups per row block
    localparam GW = (NG > 1) ? $clog2(NG) : 1;

    // array program steps and vector tasks (the numbers are the dbg_step / dbg_vec_step codes)
    localparam [3:0] ST_IDLE = 4'd0, ST_Q = 4'd1, ST_K = 4'd2, ST_VT = 4'd3, ST_QK = 4'd4, ST_SM = 4'd5,
                     ST_AV = 4'd6, ST_PROJ = 4'd7, ST_LN1 = 4'd8, ST_MLP1 = 4'd9, ST_MLP2 = 4'd10,
                     ST_LN2 = 4'd11, ST_END = 4'd12;
    localparam [1:0] SRC_X = 2'd0, SRC_ACT = 2'd1, SRC_W = 2'd2;   // operand sources
    localparam [1:0] DST_ACT = 2'd0, DST_SMEM = 2'd1, DST_RMEM = 2'd2;
    localparam [1:0] BIAS_NONE = 2'd0, BIAS_COL = 2'd1, BIAS_LANE = 2'd2;

    // Status outputs of the requant and vector units are not needed (fixed latencies), and buffer addresses
    // are computed at 24 bits and truncated to each buffer's depth: their unused bits are intended.
    /* verilator lint_off UNUSEDSIGNAL */

    // ------------------------------------------------------------------ constant registers (shadow + active)
    reg [31:0] sh_rq [0:6];
    reg [31:0] rq [0:6];
    reg [4:0]  sh_sm_pre_shift, sh_gelu_pre_shift, sm_pre_shift, gelu_pre_shift;
    reg [15:0] sh_sm_qln2, sh_sm_qb, sh_sm_xmax, sh_gelu_qb, sm_qln2, sm_qb, sm_xmax, gelu_qb;
    reg [31:0] sh_sm_qc, sh_gelu_qc, sm_qc, gelu_qc;
    reg [23:0] sh_sm_zmul, sm_zmul;
    reg [5:0]  sh_ln1_shift, sh_ln2_shift, ln1_shift, ln2_shift;
    reg [3:0]  ld_sel;
    reg [23:0] ld_addr, rd_addr, rd_left;
    reg [31:0] cycles;
    reg        next_bank, run_bank;    // weight / bias / LayerNorm-parameter bank of the next START, of this run
    reg        running, start_req;
    integer    i;

    wire idle = ~running;
    wire start_now = idle & start_req;
    assign busy = running;

    // ------------------------------------------------------------------ array program sequencer
    reg [3:0]  st;          // current GEMM step (ST_END when the program is done)
    reg [7:0]  hd;
    reg        setup;       // descriptor of (st, hd) is being loaded this cycle
    reg        feeding;
    reg [3:0]  nxt_st;
    reg [7:0]  nxt_hd;
    always @* begin
        nxt_st = ST_END; nxt_hd = 8'd0;
        case (st)
            ST_Q: nxt_st = ST_K;
            ST_K: nxt_st = ST_VT;
            ST_VT: nxt_st = ST_QK;
            ST_QK: if (hd == 8'd0 && H8 > 8'd1) begin nxt_st = ST_QK; nxt_hd = 8'd1; end
                   else begin nxt_st = ST_AV; nxt_hd = (hd == 8'd0) ? 8'd0 : hd - 8'd1; end
            ST_AV: if (hd == H8 - 8'd1) nxt_st = ST_PROJ;
                   else if (hd == H8 - 8'd2) begin nxt_st = ST_AV; nxt_hd = H8 - 8'd1; end
                   else begin nxt_st = ST_QK; nxt_hd = hd + 8'd2; end
            ST_PROJ: nxt_st = ST_MLP1;
            ST_MLP1: nxt_st = ST_MLP2;
            default: nxt_st = ST_END;
        endcase
    end

    // step descriptor, decoded combinationally from (st, hd) and registered during the setup cycle
    reg [23:0] c_mt, c_nt, c_k, c_a_base, c_a_stride, c_b_base, c_b_stride, c_o_base, c_o_stride, c_bias_base;
    reg [23:0] c_res_base;
    reg [1:0]  c_a_src, c_b_src, c_bias;
    always @* begin
        c_mt = WL; c_nt = D24 / R24; c_k = D24;
        c_a_src = SRC_X; c_a_base = X_BASE; c_a_stride = D24;
        c_b_src = SRC_W; c_b_base = WQ_BASE; c_b_stride = D24;
        c_o_base = Q_BASE; c_o_stride = D24; c_bias = BIAS_COL; c_bias_base = BQ_BASE; c_res_base = X_BASE;
        case (st)
            ST_K: begin c_b_base = WK_BASE; c_o_base = K_BASE; c_bias_base = BK_BASE; end
            ST_VT: begin
                c_mt = D24 / R24; c_nt = WL; c_a_src = SRC_W; c_a_base = WV_BASE; c_b_src = SRC_X; c_b_base = X_BASE;
                c_o_base = V_BASE; c_o_stride = L24; c_bias = BIAS_LANE; c_bias_base = BV_BASE;
            end
            ST_QK: begin
                c_nt = WL; c_k = DH; c_a_src = SRC_ACT; c_a_base = Q_BASE + hd * DH; c_b_src = SRC_ACT;
                c_b_base = K_BASE + hd * DH; c_o_base = hd[0] ? S_BANK : 24'd0;
                c_o_stride = L24; c_bias = BIAS_NONE;
            end
            ST_AV: begin
                c_nt = DH / R24; c_k = L24; c_a_base = P_BASE + (hd[0] ? P_BANK : 24'd0); c_a_stride = L24;
                c_b_src = SRC_ACT; c_b_base = V_BASE + hd * (DH / R24) * L24; c_b_stride = L24;
                c_o_base = O_BASE + hd * DH; c_bias = BIAS_NONE;
            end
            ST_PROJ: begin
                c_a_src = SRC_ACT; c_a_base = O_BASE; c_b_base = WO_BASE; c_o_base = 24'd0; c_bias_base = BO_BASE;
            end
            ST_MLP1: begin
                c_nt = DFF24 / R24; c_a_base = H_BASE; c_b_base = W1_BASE; c_o_base = G_BASE; c_o_stride = DFF24;
                c_bias_base = B1_BASE;
            end
            ST_MLP2: begin
                c_k = DFF24; c_a_src = SRC_ACT; c_a_base = G_BASE; c_a_stride = DFF24; c_b_base = W2_BASE;
                c_b_stride = DFF24; c_o_base = 24'd0; c_bias_base = B2_BASE; c_res_base = H_BASE;
            end
            default: ;
        endcase
    end

    reg [23:0] d_mt, d_nt, d_k, d_kp, d_lead, d_a_stride, d_b_base, d_b_stride, d_o_stride, d_bias_base;
    reg [1:0]  d_a_src, d_b_src, d_bias;

    // feeder position: row block mi, tile nj, beat kk (0 .. kp-1; the first `lead` beats are idle so that
    // consecutive tiles end at least R cycles apart, the array's drain rate)
    reg [23:0] mi, nj, kk;
    reg [23:0] a_row, a_ptr, b_col, b_ptr;    // operand addresses: row-block base, current beat
    reg [23:0] o_row, o_tile;                 // destination: row-block base, tile base
    reg [23:0] r_row, r_tile;                 // residual: row-block base, tile base
    reg [23:0] bias_word;
    wire [23:0] k_idx = kk - d_lead;
    wire        row_start = (nj == 24'd0) & (kk == 24'd0);
    wire        tile_end = (kk == d_kp - 24'd1);
    wire        row_end = tile_end & (nj == d_nt - 24'd1);
    wire        step_end = row_end & (mi == d_mt - 24'd1);

    // readiness of row blocks (set by the output pipeline and the vector unit, cleared when consumed)
    reg [NWL-1:0] p_ready0, p_ready1, h_ready, o_ready, g_ready;
    reg           k_done, vt_done;
    wire [MW-1:0] mi_s = mi[MW-1:0];
    reg           operands_ready;
    always @* begin
        case (st)
            ST_QK: operands_ready = k_done;
            ST_AV: operands_ready = vt_done & (hd[0] ? p_ready1[mi_s] : p_ready0[mi_s]);
            ST_PROJ: operands_ready = o_ready[mi_s];
            ST_MLP1: operands_ready = h_ready[mi_s];
            ST_MLP2: operands_ready = g_ready[mi_s];
            default: operands_ready = 1'b1;
        endcase
    end
    wire advance = feeding & (~row_start | operands_ready);   // the feeder moves one beat this cycle
    wire beat = advance & (kk >= d_lead);                      // ... and reads one operand word
    wire av_take = advance & row_start & (st == ST_AV);        // AV consumes the probabilities of row block mi

    // ------------------------------------------------------------------ tag FIFO (tiles in flight)
    // {st, hd, mi, last tile of the row block, destination tile address, residual tile address, bias word}
    localparam TAGW = 4 + 8 + 24 + 1 + 24 + 24 + 24;
    reg [TAGW-1:0] tags [0:15];
    reg [3:0] tag_wp, tag_rp;
    wire tag_push = beat & (k_idx == 24'd0);
    wire [TAGW-1:0] tag_head = tags[tag_rp];
    wire [3:0]  t_st = tag_head[TAGW-1 -: 4];
    wire [7:0]  t_hd = tag_head[TAGW-5 -: 8];
    wire [23:0] t_mi = tag_head[TAGW-13 -: 24];
    wire        t_lrow = tag_head[72];
    wire [23:0] t_otile = tag_head[71:48];
    wire [23:0] t_rtile = tag_head[47:24];
    wire [23:0] t_bias = tag_head[23:0];

    // ------------------------------------------------------------------ buffers
    // x buffer: port a = operand reads, port b = residual reads and the result stream
    wire              xb_we;
    wire [R-1:0]      xb_wmask;
    wire [XB_AW-1:0]  xb_waddr;
    wire [R*8-1:0]    xb_wdata;
    wire              xb_re_a, xb_re_b;
    wire [XB_AW-1:0]  xb_raddr_a, xb_raddr_b;
    wire [R*8-1:0]    xb_rdata_a, xb_rdata_b;
    sram_1w2r #(.WIDTH(R*8), .DEPTH(XB_DEPTH), .MASK_LANES(R)) u_xbuf (
        .clk(clk), .we(xb_we), .wmask(xb_wmask), .waddr(xb_waddr), .wdata(xb_wdata),
        .re_a(xb_re_a), .raddr_a(xb_raddr_a), .rdata_a(xb_rdata_a),
        .re_b(xb_re_b), .raddr_b(xb_raddr_b), .rdata_b(xb_rdata_b));

    // GEMM output buffer: port a = A operand, port b = B operand
    wire              ab_we;
    wire [AB_AW-1:0]  ab_waddr;
    wire [R*8-1:0]    ab_wdata;
    wire              ab_re_a, ab_re_b;
    wire [R*8-1:0]    ab_rdata_a, ab_rdata_b;
    sram_1w2r #(.WIDTH(R*8), .DEPTH(AB_DEPTH)) u_abuf (
        .clk(clk), .we(ab_we), .wmask(1'b1), .waddr(ab_waddr), .wdata(ab_wdata),
        .re_a(ab_re_a), .raddr_a(a_ptr[AB_AW-1:0]), .rdata_a(ab_rdata_a),
        .re_b(ab_re_b), .raddr_b(b_ptr[AB_AW-1:0]), .rdata_b(ab_rdata_b));

    // double-buffered weights, biases and LayerNorm parameters: the host writes bank next_bank
    wire          load_we = ld_valid & ld_ready;
    wire [23:0]   w_raddr = (d_a_src == SRC_W) ? a_ptr : b_ptr;
    wire          w_re = beat & ((d_a_src == SRC_W) | (d_b_src == SRC_W));
    wire          b_re;
    wire [B_AW-1:0] b_raddr;
    wire          vec_rd_en;
    wire [15:0]   vec_rd_idx;
    reg           vt_ln2;
    wire [23:0]   pm_raddr = (vt_ln2 ? D24 : 24'd0) + {8'd0, vec_rd_idx};
    wire [R*8-1:0]  w_rdata_bank [0:1];
    wire [R*32-1:0] b_rdata_bank [0:1];
    wire [31:0]     pm_rdata_bank [0:1];
    genvar gb;
    generate
        for (gb = 0; gb < 2; gb = gb + 1) begin : g_bank
            wire mine = (next_bank == gb[0]);
            sram_1w1r #(.WIDTH(R*8), .DEPTH(W_DEPTH)) u_wbuf (
                .clk(clk), .we(load_we && ld_sel == 4'd0 && mine), .waddr(ld_addr[W_AW-1:0]),
                .wdata(ld_data[R*8-1:0]), .re(w_re && run_bank == gb[0]), .raddr(w_raddr[W_AW-1:0]),
                .rdata(w_rdata_bank[gb]));
            sram_1w1r #(.WIDTH(R*32), .DEPTH(B_DEPTH)) u_bias (
                .clk(clk), .we(load_we && ld_sel == 4'd2 && mine), .waddr(ld_addr[B_AW-1:0]), .wdata(ld_data),
                .re(b_re && run_bank == gb[0]), .raddr(b_raddr), .rdata(b_rdata_bank[gb]));
            sram_1w1r #(.WIDTH(32), .DEPTH(PM_DEPTH)) u_lnp (
                .clk(clk), .we(load_we && ld_sel == 4'd3 && mine), .waddr(ld_addr[PM_AW-1:0]),
                .wdata(ld_data[31:0]), .re(vec_rd_en && run_bank == gb[0]), .raddr(pm_raddr[PM_AW-1:0]),
                .rdata(pm_rdata_bank[gb]));
        end
    endgenerate
    wire [R*8-1:0]  w_rdata = w_rdata_bank[run_bank];
    wire [R*32-1:0] b_rdata = b_rdata_bank[run_bank];
    wire [31:0]     pm_rdata = pm_rdata_bank[run_bank];

    // scores (2 banks) and residual sums, read by the vector unit
    wire             s_we, r_we;
    wire [23:0]      post_addr;
    wire [R*32-1:0]  s_wdata, s_rdata;
    wire [R*16-1:0]  r_wdata, r_rdata;
    reg              vt_sm;
    reg [23:0]       vt_rbase, vt_wbase;
    wire [23:0]      vec_raddr = vt_rbase + {8'd0, vec_rd_idx};
    sram_1w1r #(.WIDTH(R*32), .DEPTH(S_DEPTH)) u_scores (
        .clk(clk), .we(s_we), .waddr(post_addr[S_AW-1:0]), .wdata(s_wdata),
        .re(vec_rd_en && vt_sm), .raddr(vec_raddr[S_AW-1:0]), .rdata(s_rdata));
    sram_1w1r #(.WIDTH(R*16), .DEPTH(RS_DEPTH)) u_resid (
        .clk(clk), .we(r_we), .waddr(post_addr[RS_AW-1:0]), .wdata(r_wdata),
        .re(vec_rd_en && !vt_sm), .raddr(vec_raddr[RS_AW-1:0]), .rdata(r_rdata));

    // ------------------------------------------------------------------ array (operands registered first)
    reg f_v, f_first, f_last, a_from_x, a_from_w, b_from_x, b_from_w;
    reg g_v, g_first, g_last;
    reg [R*8-1:0] g_a, g_b;
    always @(posedge clk) begin
        if (rst) begin
            f_v <= 1'b0;
            g_v <= 1'b0;
        end else begin
            f_v <= beat;
            g_v <= f_v;
        end
        f_first <= (k_idx == 24'd0);
        f_last <= (k_idx == d_k - 24'd1);
        a_from_x <= (d_a_src == SRC_X);
        a_from_w <= (d_a_src == SRC_W);
        b_from_x <= (d_b_src == SRC_X);
        b_from_w <= (d_b_src == SRC_W);
        g_first <= f_first;
        g_last <= f_last;
        g_a <= a_from_w ? w_rdata : a_from_x ? xb_rdata_a : ab_rdata_a;
        g_b <= b_from_w ? w_rdata : b_from_x ? xb_rdata_a : ab_rdata_b;
    end
    wire            arr_valid;
    wire [R*32-1:0] arr_out;
    systolic_array #(.R(R), .C(R)) u_array (
        .clk(clk), .rst(rst), .in_valid(g_v), .in_first(g_first), .in_last(g_last),
        .a_vec(g_a), .b_vec(g_b), .out_valid(arr_valid), .out_vec(arr_out));

    // ------------------------------------------------------------------ output pipeline
    // P0: column word + tag -> bias / residual reads; P1: bias word registered; P2: bias added;
    // P3: i-GELU in; P6: requant in; P10: write
    reg [CW-1:0] oc;
    reg [1:0]  o_dst, o_bias;
    reg        o_res, o_gelu, o_raw;
    reg [2:0]  o_rq;
    always @* begin
        o_dst = DST_ACT; o_bias = BIAS_COL; o_res = 1'b0; o_gelu = 1'b0; o_raw = 1'b0; o_rq = 3'd0;
        case (t_st)
            ST_K: o_rq = 3'd1;
            ST_VT: begin o_bias = BIAS_LANE; o_rq = 3'd2; end
            ST_QK: begin o_dst = DST_SMEM; o_bias = BIAS_NONE; o_raw = 1'b1; end
            ST_AV: begin o_bias = BIAS_NONE; o_rq = 3'd3; end
            ST_PROJ: begin o_dst = DST_RMEM; o_res = 1'b1; o_rq = 3'd4; end
            ST_MLP1: begin o_gelu = 1'b1; o_rq = 3'd5; end
            ST_MLP2: begin o_dst = DST_RMEM; o_res = 1'b1; o_rq = 3'd6; end
            default: ;
        endcase
    end
    wire [23:0] o_col = {{(24-CW){1'b0}}, oc};
    assign b_re = arr_valid & (o_bias != BIAS_NONE);
    assign b_raddr = t_bias[B_AW-1:0];
    wire res_rd = arr_valid & o_res;
    wire last_col = (oc == LAST_COL[CW-1:0]);

    localparam NP = 10;  // pipeline stages P1 .. P10
    reg [NP:1]     pv;
    reg [1:0]      pd [1:NP];
    reg [23:0]     pa [1:NP];
    reg [3:0]      pst [1:NP];
    reg [7:0]      phd [1:NP];
    reg [MW-1:0]   pmi [1:NP];
    reg            pend [1:NP];      // last word of the last tile of a row block
    reg [2:0]      prq [1:6];
    reg            pres [1:6];
    reg            pgelu [1:3];
    reg [R*8-1:0]  pres_data [2:6];
    reg [R*32-1:0] p1_acc, p2_acc;
    reg [R*32-1:0] p2_bias;
    reg [CW-1:0]   p1_lane;
    reg [1:0]      p1_bias;
    reg [R*34-1:0] p3_v, p4_v, p5_v, p6_v, p7_v, p8_v, p9_v, p10_v;

    genvar l;
    wire [R*32-1:0] p1_bias_lanes;
    wire [R*34-1:0] p2_v;
    generate
        for (l = 0; l < R; l = l + 1) begin : g_bias
            assign p1_bias_lanes[l*32 +: 32] = (p1_bias == BIAS_NONE) ? 32'd0 :
                                               (p1_bias == BIAS_LANE) ? b_rdata[l*32 +: 32] : b_rdata[p1_lane*32 +: 32];
            assign p2_v[l*34 +: 34] = {{2{p2_acc[l*32+31]}}, p2_acc[l*32 +: 32]} + {{2{p2_bias[l*32+31]}}, p2_bias[l*32 +: 32]};
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            pv <= {NP{1'b0}};
            oc <= {CW{1'b0}};
        end else begin
            pv <= {pv[NP-1:1], arr_valid};
            if (arr_valid) oc <= last_col ? {CW{1'b0}} : oc + 1'b1;
        end
        p1_acc <= arr_out;
        p1_lane <= oc;
        p1_bias <= o_bias;
        p2_acc <= p1_acc;
        p2_bias <= p1_bias_lanes;
        pd[1] <= o_dst; pa[1] <= t_otile + o_col; pst[1] <= t_st; phd[1] <= t_hd; pmi[1] <= t_mi[MW-1:0];
        pend[1] <= t_lrow & last_col;
        prq[1] <= o_rq; pres[1] <= o_res; pgelu[1] <= o_gelu;
        for (i = 2; i <= NP; i = i + 1) begin
            pd[i] <= pd[i-1]; pa[i] <= pa[i-1]; pst[i] <= pst[i-1]; phd[i] <= phd[i-1]; pmi[i] <= pmi[i-1];
            pend[i] <= pend[i-1];
        end
        for (i = 2; i <= 6; i = i + 1) begin
            prq[i] <= prq[i-1]; pres[i] <= pres[i-1];
        end
        pgelu[2] <= pgelu[1];
        pgelu[3] <= pgelu[2];
        pres_data[2] <= xb_rdata_b;
        for (i = 3; i <= 6; i = i + 1) pres_data[i] <= pres_data[i-1];
        p3_v <= p2_v; p4_v <= p3_v; p5_v <= p4_v; p6_v <= p5_v; p7_v <= p6_v; p8_v <= p7_v; p9_v <= p8_v;
        p10_v <= p9_v;
    end

    wire [R*40-1:0] gelu_out;
    wire            gelu_valid;
    igelu #(.LANES(R)) u_gelu (
        .clk(clk), .rst(rst), .in_valid(pv[3]), .gelu_en(pgelu[3]), .pre_shift(gelu_pre_shift), .qb(gelu_qb),
        .qc(gelu_qc), .in_vec(p3_v), .out_valid(gelu_valid), .out_vec(gelu_out));
    wire [R*16-1:0] rq_out;
    wire            rq_valid;
    wire [31:0]     rq_word = rq[prq[6]];
    requant #(.LANES(R), .IN_W(40)) u_requant (
        .clk(clk), .rst(rst), .in_valid(pv[6]), .in_vec(gelu_out), .res_vec(pres_data[6]), .res_en(pres[6]),
        .mult(rq_word[14:0]), .shift(rq_word[21:16]), .out_valid(rq_valid), .out_vec(rq_out));

    // P10: write
    generate
        for (l = 0; l < R; l = l + 1) begin : g_wr
            assign ab_wdata[l*8 +: 8] = rq_out[l*16 +: 8];
            assign s_wdata[l*32 +: 32] = p10_v[l*34 +: 32];
        end
    endgenerate
    assign r_wdata = rq_out;
    assign post_addr = pa[NP];
    assign s_we = pv[NP] & (pd[NP] == DST_SMEM);
    assign r_we = pv[NP] & (pd[NP] == DST_RMEM);
    assign ab_we = pv[NP] & (pd[NP] == DST_ACT);
    assign ab_waddr = post_addr[AB_AW-1:0];
    wire row_done = pv[NP] & pend[NP];           // a row block of step pst[NP] is completely written
    wire [3:0] ev_st = pst[NP];
    wire [7:0] ev_hd = phd[NP];
    wire [MW-1:0] ev_mi = pmi[NP];
    wire ev_last = (ev_mi == WL[MW-1:0] - 1'b1);

    // tag FIFO bookkeeping
    wire tag_pop = arr_valid & last_col;
    always @(posedge clk) begin
        if (rst) begin
            tag_wp <= 4'd0; tag_rp <= 4'd0;
        end else begin
            if (tag_push) begin
                tags[tag_wp] <= {st, hd, mi, nj == d_nt - 24'd1, o_tile, r_tile, bias_word};
                tag_wp <= tag_wp + 4'd1;
            end
            if (tag_pop) tag_rp <= tag_rp + 4'd1;
        end
    end

    // ------------------------------------------------------------------ vector unit and its task queue
    // task = {kind (0 softmax, 1 LN1, 2 LN2), head bank, row block}, queued when the producing row block is written
    localparam VQW = 2 + 1 + MW;
    reg [VQW-1:0] vq [0:(1 << VQ_AW)-1];
    reg [VQ_AW-1:0] vq_wp, vq_rp;
    wire vq_empty = (vq_wp == vq_rp);
    wire vq_push = row_done & ((ev_st == ST_QK) | (ev_st == ST_PROJ) | (ev_st == ST_MLP2));
    wire [1:0] vq_kind = (ev_st == ST_QK) ? 2'd0 : (ev_st == ST_PROJ) ? 2'd1 : 2'd2;
    wire [VQW-1:0] vq_head = vq[vq_rp];

    reg         vt_active, vec_start;
    reg [1:0]   vt_kind;
    reg         vt_bank;
    reg [MW-1:0] vt_mi;
    reg [GW-1:0] vt_group;       // lanes vt_group*VL .. +VL-1 of the row block
    wire        vec_busy, vec_done;
    wire        vec_wr_en;
    wire [15:0] vec_wr_idx;
    wire [VL*8-1:0] vec_wr_data;
    wire [VL*32-1:0] vec_rd_data;
    generate
        for (l = 0; l < VL; l = l + 1) begin : g_vrd
            wire [31:0] s_lane = s_rdata[(vt_group * VL + l) * 32 +: 32];
            wire [15:0] r_lane = r_rdata[(vt_group * VL + l) * 16 +: 16];
            assign vec_rd_data[l*32 +: 32] = vt_sm ? s_lane : {{16{r_lane[15]}}, r_lane};
        end
    endgenerate
    vector_unit #(.LANES(VL)) u_vec (
        .clk(clk), .rst(rst), .start(vec_start), .op(~vt_sm), .count(vt_sm ? L[15:0] : D[15:0]),
        .sm_pre_shift(sm_pre_shift), .sm_qln2(sm_qln2), .sm_qb(sm_qb), .sm_qc(sm_qc), .sm_zmul(sm_zmul),
        .sm_xmax(sm_xmax), .ln_shift(vt_ln2 ? ln2_shift : ln1_shift),
        .rd_en(vec_rd_en), .rd_idx(vec_rd_idx), .rd_data(vec_rd_data), .pm_data(pm_rdata),
        .wr_en(vec_wr_en), .wr_idx(vec_wr_idx), .wr_data(vec_wr_data), .busy(vec_busy), .done(vec_done));
    wire [R-1:0] group_lanes;
    generate
        for (l = 0; l < R; l = l + 1) begin : g_vmask
            localparam integer LANE_GROUP = l / VL;
            assign group_lanes[l] = ({{(32-GW){1'b0}}, vt_group} == LANE_GROUP);
        end
    endgenerate

    // ------------------------------------------------------------------ x buffer ports
    reg rd_issue;
    assign xb_we = (idle & load_we & (ld_sel == 4'd1)) | vec_wr_en;
    assign xb_wmask = idle ? {R{1'b1}} : group_lanes;
    assign xb_waddr = idle ? ld_addr[XB_AW-1:0] : (vt_wbase[XB_AW-1:0] + vec_wr_idx[XB_AW-1:0]);
    assign xb_wdata = idle ? ld_data[R*8-1:0] : {NG{vec_wr_data}};
    assign xb_re_a = beat & ((d_a_src == SRC_X) | (d_b_src == SRC_X));
    assign xb_raddr_a = (d_a_src == SRC_X) ? a_ptr[XB_AW-1:0] : b_ptr[XB_AW-1:0];
    assign xb_re_b = res_rd | rd_issue;
    assign xb_raddr_b = idle ? rd_addr[XB_AW-1:0] : (t_rtile[XB_AW-1:0] + o_col[XB_AW-1:0]);
    assign ab_re_a = beat & (d_a_src == SRC_ACT);
    assign ab_re_b = beat & (d_b_src == SRC_ACT);
    assign out_data = xb_rdata_b;

    assign ld_ready = (ld_sel == 4'd1) ? (idle & ~start_req) : 1'b1;
    assign dbg_step = feeding ? st : ST_IDLE;
    assign dbg_head = hd;
    assign dbg_feed = beat;
    assign dbg_wr = pv[NP];
    assign dbg_wr_step = pst[NP];
    assign dbg_vec_step = !vt_active ? ST_IDLE : (vt_kind == 2'd0) ? ST_SM : (vt_kind == 2'd1) ? ST_LN1 : ST_LN2;
    assign dbg_vec_head = vt_sm ? {7'd0, vt_bank} : {{(8-MW){1'b0}}, vt_mi};

    // ------------------------------------------------------------------ the two engines
    always @(posedge clk) begin
        if (rst) begin
            running <= 1'b0; start_req <= 1'b0; done <= 1'b0; cycles <= 32'd0;
            st <= ST_IDLE; hd <= 8'd0; setup <= 1'b0; feeding <= 1'b0;
            next_bank <= 1'b0; run_bank <= 1'b0;
            vq_wp <= {VQ_AW{1'b0}}; vq_rp <= {VQ_AW{1'b0}};
            vt_active <= 1'b0; vec_start <= 1'b0;
            p_ready0 <= {NWL{1'b0}}; p_ready1 <= {NWL{1'b0}}; h_ready <= {NWL{1'b0}};
            o_ready <= {NWL{1'b0}}; g_ready <= {NWL{1'b0}}; k_done <= 1'b0; vt_done <= 1'b0;
        end else begin
            vec_start <= 1'b0;
            if (cfg_we && cfg_addr == 8'h00 && cfg_wdata[0] && idle) start_req <= 1'b1;
            if (running) cycles <= cycles + 32'd1;
            if (start_now) begin
                start_req <= 1'b0; running <= 1'b1; done <= 1'b0; cycles <= 32'd0;
                run_bank <= next_bank; next_bank <= ~next_bank;
                st <= ST_Q; hd <= 8'd0; setup <= 1'b1;
                p_ready0 <= {NWL{1'b0}}; p_ready1 <= {NWL{1'b0}}; h_ready <= {NWL{1'b0}};
                o_ready <= {NWL{1'b0}}; g_ready <= {NWL{1'b0}}; k_done <= 1'b0; vt_done <= 1'b0;
            end

            // array program: one setup cycle per step, then its row blocks and tiles
            if (running && setup) begin
                setup <= 1'b0;
                feeding <= (st != ST_END);
                mi <= 24'd0; nj <= 24'd0; kk <= 24'd0;
                a_row <= c_a_base; a_ptr <= c_a_base; b_col <= c_b_base; b_ptr <= c_b_base;
                o_row <= c_o_base; o_tile <= c_o_base; r_row <= c_res_base; r_tile <= c_res_base;
                bias_word <= c_bias_base;
            end else if (advance) begin
                if (step_end) begin
                    feeding <= 1'b0; setup <= 1'b1; st <= nxt_st; hd <= nxt_hd;
                end else if (row_end) begin
                    kk <= 24'd0; nj <= 24'd0; mi <= mi + 24'd1;
                    a_row <= a_row + d_a_stride; a_ptr <= a_row + d_a_stride;
                    b_col <= d_b_base; b_ptr <= d_b_base;
                    o_row <= o_row + d_o_stride; o_tile <= o_row + d_o_stride;
                    r_row <= r_row + D24; r_tile <= r_row + D24;
                    bias_word <= (d_bias == BIAS_LANE) ? bias_word + 24'd1 : d_bias_base;
                end else if (tile_end) begin
                    kk <= 24'd0; nj <= nj + 24'd1;
                    a_ptr <= a_row; b_col <= b_col + d_b_stride; b_ptr <= b_col + d_b_stride;
                    o_tile <= o_tile + R24; r_tile <= r_tile + R24;
                    if (d_bias == BIAS_COL) bias_word <= bias_word + 24'd1;
                end else begin
                    kk <= kk + 24'd1;
                    if (beat) begin a_ptr <= a_ptr + 24'd1; b_ptr <= b_ptr + 24'd1; end
                end
            end
            if (av_take) begin
                if (hd[0]) p_ready1[mi_s] <= 1'b0; else p_ready0[mi_s] <= 1'b0;
            end

            // row-block events of the output pipeline
            if (row_done) begin
                case (ev_st)
                    ST_K: if (ev_last) k_done <= 1'b1;
                    ST_VT: if (ev_last) vt_done <= 1'b1;
                    ST_AV: if (ev_hd == H8 - 8'd1) o_ready[ev_mi] <= 1'b1;
                    ST_MLP1: g_ready[ev_mi] <= 1'b1;
                    default: ;
                endcase
            end
            if (vq_push) begin
                vq[vq_wp] <= {vq_kind, ev_hd[0], ev_mi};
                vq_wp <= vq_wp + 1'b1;
            end

            // vector unit: take the next task, set up its addresses, start, and mark its result ready
            if (!vt_active && !vq_empty && running) begin
                vt_active <= 1'b1; vec_start <= 1'b1; vq_rp <= vq_rp + 1'b1; vt_group <= {GW{1'b0}};
                vt_kind <= vq_head[VQW-1 -: 2]; vt_bank <= vq_head[MW]; vt_mi <= vq_head[MW-1:0];
                vt_sm <= (vq_head[VQW-1 -: 2] == 2'd0);
                vt_ln2 <= (vq_head[VQW-1 -: 2] == 2'd2);
                case (vq_head[VQW-1 -: 2])
                    2'd0: begin
                        vt_rbase <= (vq_head[MW] ? S_BANK : 24'd0) + {{(24-MW){1'b0}}, vq_head[MW-1:0]} * L24;
                        vt_wbase <= P_BASE + (vq_head[MW] ? P_BANK : 24'd0) + {{(24-MW){1'b0}}, vq_head[MW-1:0]} * L24;
                    end
                    2'd1: begin
                        vt_rbase <= {{(24-MW){1'b0}}, vq_head[MW-1:0]} * D24;
                        vt_wbase <= H_BASE + {{(24-MW){1'b0}}, vq_head[MW-1:0]} * D24;
                    end
                    default: begin
                        vt_rbase <= {{(24-MW){1'b0}}, vq_head[MW-1:0]} * D24;
                        vt_wbase <= X_BASE + {{(24-MW){1'b0}}, vq_head[MW-1:0]} * D24;
                    end
                endcase
            end
            if (vec_done && vt_group != NG[GW-1:0] - 1'b1) begin   // next group of lanes of the same rows
                vt_group <= vt_group + 1'b1; vec_start <= 1'b1;
            end else if (vec_done) begin
                vt_active <= 1'b0;
                case (vt_kind)
                    2'd0: if (vt_bank) p_ready1[vt_mi] <= 1'b1; else p_ready0[vt_mi] <= 1'b1;
                    2'd1: h_ready[vt_mi] <= 1'b1;
                    default: if (vt_mi == WL[MW-1:0] - 1'b1) begin
                        running <= 1'b0; done <= 1'b1; st <= ST_IDLE;
                    end
                endcase
            end
        end
    end

    // ------------------------------------------------------------------ descriptor registers (setup cycle)
    always @(posedge clk) begin
        if (setup) begin
            d_mt <= c_mt; d_nt <= c_nt; d_k <= c_k; d_kp <= (c_k > R24) ? c_k : R24;
            d_lead <= ((c_k > R24) ? c_k : R24) - c_k;
            d_a_src <= c_a_src; d_b_src <= c_b_src; d_a_stride <= c_a_stride; d_b_base <= c_b_base;
            d_b_stride <= c_b_stride; d_o_stride <= c_o_stride; d_bias <= c_bias; d_bias_base <= c_bias_base;
        end
    end

    // ------------------------------------------------------------------ register port, load and read streams
    always @(posedge clk) begin
        if (rst) begin
            ld_sel <= 4'd0; ld_addr <= 24'd0; rd_addr <= 24'd0; rd_left <= 24'd0; rd_issue <= 1'b0;
            out_valid <= 1'b0;
        end else begin
            if (cfg_we) begin
                case (cfg_addr)
                    8'h02: ld_sel <= cfg_wdata[3:0];
                    8'h03: ld_addr <= cfg_wdata[23:0];
                    8'h04: rd_addr <= cfg_wdata[23:0];
                    8'h05: rd_left <= cfg_wdata[23:0];
                    8'h10, 8'h11, 8'h12, 8'h13, 8'h14, 8'h15, 8'h16: sh_rq[cfg_addr[2:0]] <= cfg_wdata;
                    8'h18: sh_sm_pre_shift <= cfg_wdata[4:0];
                    8'h19: sh_sm_qln2 <= cfg_wdata[15:0];
                    8'h1A: sh_sm_qb <= cfg_wdata[15:0];
                    8'h1B: sh_sm_qc <= cfg_wdata;
                    8'h1C: sh_sm_zmul <= cfg_wdata[23:0];
                    8'h1D: sh_sm_xmax <= cfg_wdata[15:0];
                    8'h20: sh_gelu_pre_shift <= cfg_wdata[4:0];
                    8'h21: sh_gelu_qb <= cfg_wdata[15:0];
                    8'h22: sh_gelu_qc <= cfg_wdata;
                    8'h28: sh_ln1_shift <= cfg_wdata[5:0];
                    8'h29: sh_ln2_shift <= cfg_wdata[5:0];
                    default: ;
                endcase
            end
            if (load_we) ld_addr <= ld_addr + 24'd1;
            // result stream: issue a read, present it, wait for ready
            rd_issue <= 1'b0;
            if (idle && rd_left != 24'd0 && !out_valid && !rd_issue) rd_issue <= 1'b1;
            if (rd_issue) begin
                out_valid <= 1'b1;
                rd_addr <= rd_addr + 24'd1;
                rd_left <= rd_left - 24'd1;
            end
            if (out_valid && out_ready) out_valid <= 1'b0;
        end
        if (start_now) begin
            for (i = 0; i < 7; i = i + 1) rq[i] <= sh_rq[i];
            sm_pre_shift <= sh_sm_pre_shift; sm_qln2 <= sh_sm_qln2; sm_qb <= sh_sm_qb; sm_qc <= sh_sm_qc;
            sm_zmul <= sh_sm_zmul; sm_xmax <= sh_sm_xmax; gelu_pre_shift <= sh_gelu_pre_shift;
            gelu_qb <= sh_gelu_qb; gelu_qc <= sh_gelu_qc; ln1_shift <= sh_ln1_shift; ln2_shift <= sh_ln2_shift;
        end
    end
    /* verilator lint_on UNUSEDSIGNAL */

    always @* begin
        case (cfg_addr)
            8'h00: cfg_rdata = {30'd0, busy, done};
            8'h01: cfg_rdata = cycles;
            default: cfg_rdata = 32'd0;
        endcase
    end
endmodule
