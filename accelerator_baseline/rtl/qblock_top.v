// qblock_top: one integer-only post-LN transformer encoder block on an R x R output-stationary array.
//
// Program (block scheduler FSM; "|" = barrier: wait until every issued GEMM result is written):
//   Q, K, V^T | per head h: QK^T_h | softmax_h, AV_h ... | out-proj(+x) | LN1, MLP1(GELU) | MLP2(+h1) | LN2 |
// GEMM tiles stream back to back from the buffers (one beat per cycle, a tile lasts max(K, R) beats);
// results leave the array as column words through bias add, i-GELU, requant (+ residual) into the buffers.
// Softmax and LayerNorm run on the vector unit, one block of R rows (tokens) at a time.
//
// Host interface (all valid/ready or register writes):
//   cfg_*: register port. 0x00 CTRL (w: bit0 start; r: {busy, done}), 0x01 CYCLES (r: block cycles),
//          0x02 LD_SEL (0 weights, 1 activations, 2 biases, 3 LayerNorm params), 0x03 LD_ADDR,
//          0x04 RD_ADDR, 0x05 RD_COUNT (w: start streaming RD_COUNT activation words from RD_ADDR),
//          0x10..0x16 requant {shift[21:16], mult[14:0]} for Q, K, V, O, PROJ, MLP1, MLP2,
//          0x18..0x1D softmax pre_shift, q_ln2, q_b, q_c, z_mul, x_max, 0x20..0x22 GELU pre_shift, q_b, q_c,
//          0x28, 0x29 LN1 / LN2 shift.
//   ld_*:  load stream, one buffer word per beat at LD_ADDR++ of buffer LD_SEL (accepted while idle).
//   out_*: result stream (R int8 per word) started by RD_COUNT.
// Buffer layouts (words of R lanes) are documented in accelerator_baseline/hwmap.py.
module qblock_top #(
    parameter R = 16,
    parameter L = 16,
    parameter D = 32,
    parameter H = 2,
    parameter DFF = 64
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
    output reg  [R*8-1:0]    out_data,
    output wire              busy,
    output reg               done,
    output wire [3:0]        dbg_step,
    output wire [7:0]        dbg_head,
    output wire              dbg_feed,
    output wire              dbg_wr,
    output wire [3:0]        dbg_wr_step
);
    // region sizes: constant expressions evaluated at 32 bits, stored at the 24-bit address width
    /* verilator lint_off WIDTH */
    localparam [23:0] DH = D / H;
    localparam [23:0] WL = L / R;
    // activation buffer regions (words of R int8)
    localparam [23:0] X_BASE = 0, Q_BASE = WL * D, K_BASE = 2 * WL * D, V_BASE = 3 * WL * D, P_BASE = 4 * WL * D;
    localparam [23:0] O_BASE = P_BASE + WL * L, H_BASE = O_BASE + WL * D, G_BASE = H_BASE + WL * D;
    localparam [23:0] Y_BASE = G_BASE + WL * DFF, ACT_DEPTH = Y_BASE + WL * D;
    // weight buffer regions (words of R int8)
    localparam [23:0] WQ_BASE = 0, WK_BASE = D * D / R, WV_BASE = 2 * D * D / R, WO_BASE = 3 * D * D / R;
    localparam [23:0] W1_BASE = 4 * D * D / R, W2_BASE = W1_BASE + DFF * D / R, W_DEPTH = W2_BASE + D * DFF / R;
    // bias buffer regions (words of R int32)
    localparam [23:0] BQ_BASE = 0, BK_BASE = D / R, BV_BASE = 2 * D / R, BO_BASE = 3 * D / R, B1_BASE = 4 * D / R;
    localparam [23:0] B2_BASE = B1_BASE + DFF / R, B_DEPTH = B2_BASE + D / R;
    localparam [23:0] S_DEPTH = WL * L, RS_DEPTH = WL * D, PM_DEPTH = 2 * D;
    localparam ACT_AW = $clog2(ACT_DEPTH), W_AW = $clog2(W_DEPTH), B_AW = (B_DEPTH > 1) ? $clog2(B_DEPTH) : 1;
    localparam S_AW = (S_DEPTH > 1) ? $clog2(S_DEPTH) : 1, RS_AW = $clog2(RS_DEPTH), PM_AW = $clog2(PM_DEPTH);
    localparam CW = (R > 1) ? $clog2(R) : 1;
    localparam [23:0] R24 = R, L24 = L, D24 = D, DFF24 = DFF;
    localparam [7:0] H8 = H;
    /* verilator lint_on WIDTH */
    localparam integer LAST_COL = R - 1;

    // program steps
    localparam [3:0] ST_IDLE = 4'd0, ST_Q = 4'd1, ST_K = 4'd2, ST_VT = 4'd3, ST_QK = 4'd4, ST_SM = 4'd5,
                     ST_AV = 4'd6, ST_PROJ = 4'd7, ST_LN1 = 4'd8, ST_MLP1 = 4'd9, ST_MLP2 = 4'd10,
                     ST_LN2 = 4'd11, ST_FIN = 4'd12;
    // destinations
    localparam [1:0] DST_ACT = 2'd0, DST_SMEM = 2'd1, DST_RMEM = 2'd2;

    // Buffer addresses are computed at 24 bits and truncated to each buffer's depth; status outputs of the
    // requant and vector units are not needed (fixed latencies): their unused bits are intended.
    /* verilator lint_off UNUSEDSIGNAL */

    // ------------------------------------------------------------------ registers (constants)
    reg [31:0] rq [0:6];
    reg [4:0]  sm_pre_shift, gelu_pre_shift;
    reg [15:0] sm_qln2, sm_qb, sm_xmax, gelu_qb;
    reg [31:0] sm_qc, gelu_qc;
    reg [23:0] sm_zmul;
    reg [5:0]  ln1_shift, ln2_shift;
    reg [3:0]  ld_sel;
    reg [23:0] ld_addr;
    reg [23:0] rd_addr;
    reg [23:0] rd_left;
    reg [31:0] cycles;

    // ------------------------------------------------------------------ scheduler state
    reg [3:0]  st;
    reg [7:0]  hd;
    reg        running;      // a step is active (feeding or vector op)
    reg        feeding;
    reg [23:0] mi, nj, kk;
    // incremental address bases (no multipliers in the address paths): A row block, B column block,
    // destination row block (mi * destination stride), residual row block (mi * D); vector row block
    reg [23:0] a_row, b_col, d_row, r_row;
    reg        start_req;

    wire pipe_empty;
    wire vec_busy, vec_done;

    // ------------------------------------------------------------------ GEMM feed descriptor (st, hd)
    reg [23:0] g_mt, g_nt, g_k;
    reg        g_a_w, g_b_act;       // A from weight buffer (V^T); B from activation buffer
    reg [23:0] g_a_base, g_a_stride, g_b_base, g_b_stride;
    always @* begin
        g_mt = WL; g_nt = D24 / R24; g_k = D24; g_a_w = 1'b0; g_b_act = 1'b0;
        g_a_base = X_BASE; g_a_stride = D24; g_b_base = WQ_BASE; g_b_stride = D24;
        case (st)
            ST_K: g_b_base = WK_BASE;
            ST_VT: begin
                g_mt = D24 / R24; g_nt = WL; g_a_w = 1'b1; g_a_base = WV_BASE; g_b_act = 1'b1; g_b_base = X_BASE;
            end
            ST_QK: begin
                g_nt = WL; g_k = DH; g_a_base = Q_BASE + hd * DH; g_b_act = 1'b1; g_b_base = K_BASE + hd * DH;
            end
            ST_AV: begin
                g_nt = DH / R24; g_k = L24; g_a_base = P_BASE; g_a_stride = L24; g_b_act = 1'b1;
                g_b_base = V_BASE + hd * (DH / R24) * L24; g_b_stride = L24;
            end
            ST_PROJ: begin g_a_base = O_BASE; g_b_base = WO_BASE; end
            ST_MLP1: begin g_nt = DFF24 / R24; g_a_base = H_BASE; g_b_base = W1_BASE; end
            ST_MLP2: begin g_k = DFF24; g_a_base = G_BASE; g_a_stride = DFF24; g_b_base = W2_BASE; g_b_stride = DFF24; end
            default: ;
        endcase
    end
    wire [23:0] g_kp = (g_k > R24) ? g_k : R24;   // beats per tile

    wire is_gemm = (st == ST_Q) | (st == ST_K) | (st == ST_VT) | (st == ST_QK) | (st == ST_AV) |
                   (st == ST_PROJ) | (st == ST_MLP1) | (st == ST_MLP2);
    wire barrier = ((st == ST_QK) && hd == 0) | (st == ST_SM) | (st == ST_PROJ) | (st == ST_LN1) |
                   (st == ST_MLP2) | (st == ST_LN2) | (st == ST_FIN);

    // feeder beat (addresses issued this cycle, data at the array next cycle); a tile with K < R starts
    // with R - K idle beats so that consecutive tiles end at least R cycles apart (array drain rate)
    wire [23:0] k_lead = g_kp - g_k;
    wire [23:0] k_idx = kk - k_lead;
    wire        beat = feeding & (kk >= k_lead);
    wire [23:0] a_addr = a_row + k_idx;
    wire [23:0] b_addr = b_col + k_idx;
    wire [23:0] f_o_stride = ((st == ST_VT) | (st == ST_QK)) ? L24 : (st == ST_MLP1) ? DFF24 : D24;
    wire        tile_end = feeding & (kk == g_kp - 1);
    wire        gemm_end = tile_end & (nj == g_nt - 1) & (mi == g_mt - 1);

    // ------------------------------------------------------------------ tag FIFO (tiles in flight)
    localparam TAGW = 4 + 8 + 24 + 24 + 24 + 24;
    reg [TAGW-1:0] tags [0:15];
    reg [3:0] tag_wp, tag_rp;
    reg [4:0] tag_n;
    wire tag_push = beat & (k_idx == 24'd0);
    wire [TAGW-1:0] tag_head = tags[tag_rp];
    wire [3:0]  t_st = tag_head[TAGW-1 -: 4];
    wire [7:0]  t_hd = tag_head[103:96];
    wire [23:0] t_mi = tag_head[95:72];
    wire [23:0] t_nj = tag_head[71:48];
    wire [23:0] t_drow = tag_head[47:24];
    wire [23:0] t_rrow = tag_head[23:0];

    // ------------------------------------------------------------------ buffers
    wire                act_we;
    wire [ACT_AW-1:0]   act_waddr;
    wire [R*8-1:0]      act_wdata;
    wire                act_re_a, act_re_b;
    wire [ACT_AW-1:0]   act_raddr_a, act_raddr_b;
    wire [R*8-1:0]      act_rdata_a, act_rdata_b;
    sram_1w2r #(.WIDTH(R*8), .DEPTH(ACT_DEPTH)) u_act (
        .clk(clk), .we(act_we), .waddr(act_waddr), .wdata(act_wdata),
        .re_a(act_re_a), .raddr_a(act_raddr_a), .rdata_a(act_rdata_a),
        .re_b(act_re_b), .raddr_b(act_raddr_b), .rdata_b(act_rdata_b));

    wire [R*8-1:0] w_rdata;
    wire           load_we = ld_valid & ld_ready;
    sram_1w1r #(.WIDTH(R*8), .DEPTH(W_DEPTH)) u_wbuf (
        .clk(clk), .we(load_we && ld_sel == 4'd0), .waddr(ld_addr[W_AW-1:0]), .wdata(ld_data[R*8-1:0]),
        .re(beat), .raddr(g_a_w ? a_addr[W_AW-1:0] : b_addr[W_AW-1:0]), .rdata(w_rdata));

    wire             b_re;
    wire [B_AW-1:0]  b_raddr;
    wire [R*32-1:0]  b_rdata;
    sram_1w1r #(.WIDTH(R*32), .DEPTH(B_DEPTH)) u_bias (
        .clk(clk), .we(load_we && ld_sel == 4'd2), .waddr(ld_addr[B_AW-1:0]), .wdata(ld_data),
        .re(b_re), .raddr(b_raddr), .rdata(b_rdata));

    wire             vec_rd_en;
    wire [15:0]      vec_rd_idx;
    wire [31:0]      pm_rdata;
    wire             ln_second = (st == ST_LN2);
    wire [23:0]      pm_raddr = (ln_second ? D24 : 24'd0) + {8'd0, vec_rd_idx};
    sram_1w1r #(.WIDTH(32), .DEPTH(PM_DEPTH)) u_lnp (
        .clk(clk), .we(load_we && ld_sel == 4'd3), .waddr(ld_addr[PM_AW-1:0]), .wdata(ld_data[31:0]),
        .re(vec_rd_en), .raddr(pm_raddr[PM_AW-1:0]), .rdata(pm_rdata));

    wire             s_we, r_we;
    wire [23:0]      post_addr;
    wire [R*32-1:0]  s_wdata, s_rdata;
    wire [R*16-1:0]  r_wdata, r_rdata;
    wire [23:0]      vec_raddr = d_row + {8'd0, vec_rd_idx};
    sram_1w1r #(.WIDTH(R*32), .DEPTH(S_DEPTH)) u_scores (
        .clk(clk), .we(s_we), .waddr(post_addr[S_AW-1:0]), .wdata(s_wdata),
        .re(vec_rd_en && st == ST_SM), .raddr(vec_raddr[S_AW-1:0]), .rdata(s_rdata));
    sram_1w1r #(.WIDTH(R*16), .DEPTH(RS_DEPTH)) u_resid (
        .clk(clk), .we(r_we), .waddr(post_addr[RS_AW-1:0]), .wdata(r_wdata),
        .re(vec_rd_en && st != ST_SM), .raddr(vec_raddr[RS_AW-1:0]), .rdata(r_rdata));

    // ------------------------------------------------------------------ array
    reg f_v, f_first, f_last, f_a_w, f_b_act;
    always @(posedge clk) begin
        if (rst) f_v <= 1'b0;
        else f_v <= beat;
        f_first <= (k_idx == 24'd0);
        f_last <= (k_idx == g_k - 1);
        f_a_w <= g_a_w;
        f_b_act <= g_b_act;
    end
    wire            arr_valid;
    wire [R*32-1:0] arr_out;
    systolic_array #(.R(R), .C(R)) u_array (
        .clk(clk), .rst(rst), .in_valid(f_v), .in_first(f_first), .in_last(f_last),
        .a_vec(f_a_w ? w_rdata : act_rdata_a), .b_vec(f_b_act ? act_rdata_b : w_rdata),
        .out_valid(arr_valid), .out_vec(arr_out));

    // ------------------------------------------------------------------ output pipeline
    // P0: column word + tag -> bias / residual reads
    reg [CW-1:0] oc;
    reg [1:0]  o_dst;
    reg [23:0] o_base, o_res_base, o_bias_base;
    reg        o_bias, o_bias_lane, o_res, o_gelu, o_raw;
    reg [2:0]  o_rq;
    always @* begin
        o_dst = DST_ACT; o_base = Q_BASE; o_bias = 1'b1; o_bias_lane = 1'b0;
        o_bias_base = BQ_BASE; o_res = 1'b0; o_res_base = X_BASE; o_gelu = 1'b0; o_raw = 1'b0; o_rq = 3'd0;
        case (t_st)
            ST_K: begin o_base = K_BASE; o_bias_base = BK_BASE; o_rq = 3'd1; end
            ST_VT: begin o_base = V_BASE; o_bias_lane = 1'b1; o_bias_base = BV_BASE; o_rq = 3'd2; end
            ST_QK: begin o_dst = DST_SMEM; o_base = 0; o_bias = 1'b0; o_raw = 1'b1; end
            ST_AV: begin o_base = O_BASE + t_hd * DH; o_bias = 1'b0; o_rq = 3'd3; end
            ST_PROJ: begin o_dst = DST_RMEM; o_base = 0; o_bias_base = BO_BASE; o_res = 1'b1; o_rq = 3'd4; end
            ST_MLP1: begin o_base = G_BASE; o_bias_base = B1_BASE; o_gelu = 1'b1; o_rq = 3'd5; end
            ST_MLP2: begin
                o_dst = DST_RMEM; o_base = 0; o_bias_base = B2_BASE; o_res = 1'b1; o_res_base = H_BASE; o_rq = 3'd6;
            end
            default: ;
        endcase
    end
    wire [23:0] o_col = t_nj * R24 + {{(24-CW){1'b0}}, oc};
    wire [23:0] o_addr = o_base + t_drow + o_col;
    assign b_re = arr_valid & o_bias;
    wire [23:0] b_word = o_bias_base + (o_bias_lane ? t_mi : t_nj);
    assign b_raddr = b_word[B_AW-1:0];
    wire res_rd = arr_valid & o_res;

    // pipeline registers: P1 (bias/residual data ready), P2 (gelu in), P5 (requant in), P8 (write)
    reg [R*32-1:0] p1_acc;
    reg [8:1]      pv;
    reg [CW-1:0]   p1_lane;
    reg            p1_bias, p1_bias_lane;
    reg [1:0]      pd [1:8];
    reg [23:0]     pa [1:8];
    reg [2:0]      prq [1:5];
    reg            pres [1:5];
    reg            pgelu [1:2];
    reg            praw [1:8];
    reg [3:0]      pst [1:8];
    reg [R*8-1:0]  pres_data [2:5];
    reg [R*34-1:0] p2_v, p3_v, p4_v, p5_v, p6_v, p7_v, p8_v;
    integer i;

    wire [R*34-1:0] p1_v;
    genvar l;
    generate
        for (l = 0; l < R; l = l + 1) begin : g_bias
            wire [31:0] bias_l = !p1_bias ? 32'd0 : p1_bias_lane ? b_rdata[l*32 +: 32] : b_rdata[p1_lane*32 +: 32];
            assign p1_v[l*34 +: 34] = {{2{p1_acc[l*32+31]}}, p1_acc[l*32 +: 32]} + {{2{bias_l[31]}}, bias_l};
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            pv <= 8'd0;
            oc <= {CW{1'b0}};
        end else begin
            pv <= {pv[7:1], arr_valid};
            if (arr_valid) oc <= (oc == LAST_COL[CW-1:0]) ? {CW{1'b0}} : oc + 1'b1;
        end
        p1_acc <= arr_out;
        p1_lane <= oc;
        p1_bias <= o_bias;
        p1_bias_lane <= o_bias_lane;
        pd[1] <= o_dst; pa[1] <= o_addr; prq[1] <= o_rq; pres[1] <= o_res; pgelu[1] <= o_gelu; praw[1] <= o_raw;
        pst[1] <= t_st;
        for (i = 2; i <= 8; i = i + 1) begin
            pd[i] <= pd[i-1]; pa[i] <= pa[i-1]; praw[i] <= praw[i-1]; pst[i] <= pst[i-1];
        end
        for (i = 2; i <= 5; i = i + 1) begin
            prq[i] <= prq[i-1]; pres[i] <= pres[i-1];
        end
        pgelu[2] <= pgelu[1];
        pres_data[2] <= act_rdata_b;
        pres_data[3] <= pres_data[2];
        pres_data[4] <= pres_data[3];
        pres_data[5] <= pres_data[4];
        p2_v <= p1_v; p3_v <= p2_v; p4_v <= p3_v; p5_v <= p4_v; p6_v <= p5_v; p7_v <= p6_v; p8_v <= p7_v;
    end

    wire [R*40-1:0] gelu_out;
    wire [R*16-1:0] rq_out;
    wire            rq_valid;
    wire [31:0]     rq_word = rq[prq[5]];
    requant #(.LANES(R), .IN_W(40)) u_requant (
        .clk(clk), .rst(rst), .in_valid(pv[5]), .in_vec(gelu_out), .res_vec(pres_data[5]), .res_en(pres[5]),
        .mult(rq_word[14:0]), .shift(rq_word[21:16]), .out_valid(rq_valid), .out_vec(rq_out));

    // P8: write
    wire [R*8-1:0] post_act_data;
    generate
        for (l = 0; l < R; l = l + 1) begin : g_wr
            assign post_act_data[l*8 +: 8] = rq_out[l*16 +: 8];
            assign s_wdata[l*32 +: 32] = p8_v[l*34 +: 32];
        end
    endgenerate
    assign r_wdata = rq_out;
    assign post_addr = pa[8];
    assign s_we = pv[8] & (pd[8] == DST_SMEM);
    assign r_we = pv[8] & (pd[8] == DST_RMEM);
    wire post_act_we = pv[8] & (pd[8] == DST_ACT);

    // tag FIFO bookkeeping
    wire tag_pop = arr_valid & (oc == LAST_COL[CW-1:0]);
    always @(posedge clk) begin
        if (rst) begin
            tag_wp <= 4'd0; tag_rp <= 4'd0; tag_n <= 5'd0;
        end else begin
            if (tag_push) begin
                tags[tag_wp] <= {st, hd, mi, nj, d_row, r_row};
                tag_wp <= tag_wp + 4'd1;
            end
            if (tag_pop) tag_rp <= tag_rp + 4'd1;
            tag_n <= tag_n + {4'd0, tag_push} - {4'd0, tag_pop};
        end
    end
    assign pipe_empty = (tag_n == 5'd0) & (pv == 8'd0) & ~arr_valid & ~f_v;

    // ------------------------------------------------------------------ vector unit
    wire            vec_wr_en;
    wire [15:0]     vec_wr_idx;
    wire [R*8-1:0]  vec_wr_data;
    reg             vec_start;
    wire [R*32-1:0] vec_rd_data;
    generate
        for (l = 0; l < R; l = l + 1) begin : g_vrd
            assign vec_rd_data[l*32 +: 32] = (st == ST_SM) ? s_rdata[l*32 +: 32]
                                                             : {{16{r_rdata[l*16+15]}}, r_rdata[l*16 +: 16]};
        end
    endgenerate
    vector_unit #(.LANES(R)) u_vec (
        .clk(clk), .rst(rst), .start(vec_start), .op(st != ST_SM), .count((st == ST_SM) ? L[15:0] : D[15:0]),
        .sm_pre_shift(sm_pre_shift), .sm_qln2(sm_qln2), .sm_qb(sm_qb), .sm_qc(sm_qc), .sm_zmul(sm_zmul),
        .sm_xmax(sm_xmax), .ln_shift(ln_second ? ln2_shift : ln1_shift),
        .rd_en(vec_rd_en), .rd_idx(vec_rd_idx), .rd_data(vec_rd_data), .pm_data(pm_rdata),
        .wr_en(vec_wr_en), .wr_idx(vec_wr_idx), .wr_data(vec_wr_data), .busy(vec_busy), .done(vec_done),
        .gelu_en(pgelu[2]), .gelu_pre_shift(gelu_pre_shift), .gelu_qb(gelu_qb), .gelu_qc(gelu_qc),
        .gelu_in(p2_v), .gelu_out(gelu_out));
    wire [23:0] vec_waddr = ((st == ST_SM) ? P_BASE : (st == ST_LN1) ? H_BASE : Y_BASE) + d_row + {8'd0, vec_wr_idx};

    // ------------------------------------------------------------------ activation buffer ports
    wire idle = (st == ST_IDLE);
    reg        rd_issue;
    assign act_we = (idle & load_we & (ld_sel == 4'd1)) | post_act_we | vec_wr_en;
    assign act_waddr = idle ? ld_addr[ACT_AW-1:0] : post_act_we ? pa[8][ACT_AW-1:0] : vec_waddr[ACT_AW-1:0];
    assign act_wdata = idle ? ld_data[R*8-1:0] : post_act_we ? post_act_data : vec_wr_data;
    assign act_re_a = (beat & ~g_a_w) | rd_issue;
    assign act_raddr_a = idle ? rd_addr[ACT_AW-1:0] : a_addr[ACT_AW-1:0];
    assign act_re_b = (beat & g_b_act) | res_rd;
    assign act_raddr_b = res_rd ? (o_res_base[ACT_AW-1:0] + t_rrow[ACT_AW-1:0] + o_col[ACT_AW-1:0])
                                : b_addr[ACT_AW-1:0];

    // ------------------------------------------------------------------ scheduler
    assign ld_ready = idle & ~start_req;
    assign busy = ~idle;
    assign dbg_step = st;
    assign dbg_head = hd;
    assign dbg_feed = beat;
    assign dbg_wr = pv[8];
    assign dbg_wr_step = pst[8];

    reg [3:0] next_st;
    reg [7:0] next_hd;
    always @* begin
        next_st = st; next_hd = hd;
        case (st)
            ST_Q: next_st = ST_K;
            ST_K: next_st = ST_VT;
            ST_VT: begin next_st = ST_QK; next_hd = 8'd0; end
            ST_QK: next_st = ST_SM;
            ST_SM: next_st = ST_AV;
            ST_AV: if (hd == H8 - 8'd1) next_st = ST_PROJ; else begin next_st = ST_QK; next_hd = hd + 8'd1; end
            ST_PROJ: next_st = ST_LN1;
            ST_LN1: next_st = ST_MLP1;
            ST_MLP1: next_st = ST_MLP2;
            ST_MLP2: next_st = ST_LN2;
            ST_LN2: next_st = ST_FIN;
            default: next_st = ST_IDLE;
        endcase
    end

    always @(posedge clk) begin
        if (rst) begin
            st <= ST_IDLE; hd <= 8'd0; running <= 1'b0; feeding <= 1'b0; vec_start <= 1'b0;
            done <= 1'b0; start_req <= 1'b0; cycles <= 32'd0;
            mi <= 24'd0; nj <= 24'd0; kk <= 24'd0;
        end else begin
            vec_start <= 1'b0;
            if (cfg_we && cfg_addr == 8'h00 && cfg_wdata[0] && idle) start_req <= 1'b1;
            if (!idle) cycles <= cycles + 32'd1;
            if (idle) begin
                if (start_req) begin
                    start_req <= 1'b0; st <= ST_Q; hd <= 8'd0; running <= 1'b0; done <= 1'b0; cycles <= 32'd0;
                end
            end else if (st == ST_FIN) begin
                if (pipe_empty) begin st <= ST_IDLE; done <= 1'b1; end
            end else if (!running) begin
                if (!barrier || pipe_empty) begin
                    running <= 1'b1;
                    mi <= 24'd0; nj <= 24'd0; kk <= 24'd0;
                    a_row <= g_a_base; b_col <= g_b_base; d_row <= 24'd0; r_row <= 24'd0;
                    if (is_gemm) feeding <= 1'b1;
                    else vec_start <= 1'b1;
                end
            end else if (feeding) begin
                if (gemm_end) begin
                    feeding <= 1'b0; running <= 1'b0; st <= next_st; hd <= next_hd;
                end else if (tile_end) begin
                    kk <= 24'd0;
                    if (nj == g_nt - 1) begin
                        nj <= 24'd0; mi <= mi + 24'd1; b_col <= g_b_base; a_row <= a_row + g_a_stride;
                        d_row <= d_row + f_o_stride; r_row <= r_row + D24;
                    end else begin
                        nj <= nj + 24'd1; b_col <= b_col + g_b_stride;
                    end
                end else kk <= kk + 24'd1;
            end else if (vec_done) begin
                if (mi == WL - 1) begin
                    running <= 1'b0; st <= next_st; hd <= next_hd;
                end else begin
                    mi <= mi + 24'd1; vec_start <= 1'b1; d_row <= d_row + ((st == ST_SM) ? L24 : D24);
                end
            end
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
                    8'h10, 8'h11, 8'h12, 8'h13, 8'h14, 8'h15, 8'h16: rq[cfg_addr[2:0]] <= cfg_wdata;
                    8'h18: sm_pre_shift <= cfg_wdata[4:0];
                    8'h19: sm_qln2 <= cfg_wdata[15:0];
                    8'h1A: sm_qb <= cfg_wdata[15:0];
                    8'h1B: sm_qc <= cfg_wdata;
                    8'h1C: sm_zmul <= cfg_wdata[23:0];
                    8'h1D: sm_xmax <= cfg_wdata[15:0];
                    8'h20: gelu_pre_shift <= cfg_wdata[4:0];
                    8'h21: gelu_qb <= cfg_wdata[15:0];
                    8'h22: gelu_qc <= cfg_wdata;
                    8'h28: ln1_shift <= cfg_wdata[5:0];
                    8'h29: ln2_shift <= cfg_wdata[5:0];
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
    end
    always @* out_data = act_rdata_a;
    /* verilator lint_on UNUSEDSIGNAL */

    always @* begin
        case (cfg_addr)
            8'h00: cfg_rdata = {30'd0, busy, done};
            8'h01: cfg_rdata = cycles;
            default: cfg_rdata = 32'd0;
        endcase
    end
endmodule
