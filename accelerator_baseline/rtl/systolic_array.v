// R x C output-stationary int8 systolic array with int32 accumulators and overlapped tile drain.
//
// Input: one beat per cycle, unskewed: a_vec = column k of the A tile (R int8, lane r = row r),
// b_vec = row k of the B tile (C int8, lane c = column c), in_first/in_last mark k = 0 and k = K-1.
// The array skews row r by r cycles and column c by c cycles internally.
// Output: for every tile, C consecutive column words out_vec (R int32, lane r = row r), column 0 first,
// tiles in input order. The last beats of consecutive tiles must be at least C cycles apart (a tile with
// K < C is preceded by C - K idle beats): a row drains C words per tile, which then never collides with the
// next tile's capture.
// Latency from a tile's last input beat to its first output word: R + C - 1 + 1 + R - 1 + 1 cycles.
module systolic_array #(
    parameter R = 16,
    parameter C = 16
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             in_valid,
    input  wire             in_first,
    input  wire             in_last,
    input  wire [R*8-1:0]   a_vec,
    input  wire [C*8-1:0]   b_vec,
    output wire             out_valid,
    output wire [R*32-1:0]  out_vec
);
    localparam CW = (C > 1) ? $clog2(C) : 1;
    localparam integer LAST_COL = C - 1;

    // PE interconnect: a/flags run along rows (index r*(C+1)+c), b runs down columns (index c*(R+1)+r).
    wire [7:0]  a_w [0:R*(C+1)-1];
    wire        v_w [0:R*(C+1)-1];
    wire        f_w [0:R*(C+1)-1];
    wire        l_w [0:R*(C+1)-1];
    wire [7:0]  b_w [0:C*(R+1)-1];
    wire [31:0] res_w [0:R*C-1];

    genvar r, c, i;
    generate
        // Input skew: row r delayed r cycles (data and flags), column c delayed c cycles.
        for (r = 0; r < R; r = r + 1) begin : g_rowskew
            if (r == 0) begin : g_nodelay
                assign a_w[0] = a_vec[7:0];
                assign v_w[0] = in_valid;
                assign f_w[0] = in_first;
                assign l_w[0] = in_last;
            end else begin : g_delay
                reg [7:0] a_d [0:r-1];
                reg       v_d [0:r-1];
                reg       f_d [0:r-1];
                reg       l_d [0:r-1];
                for (i = 0; i < r; i = i + 1) begin : g_stage
                    always @(posedge clk) begin
                        a_d[i] <= (i == 0) ? a_vec[r*8 +: 8] : a_d[i-1];
                        f_d[i] <= (i == 0) ? in_first : f_d[i-1];
                        l_d[i] <= (i == 0) ? in_last : l_d[i-1];
                        if (rst) v_d[i] <= 1'b0;
                        else v_d[i] <= (i == 0) ? in_valid : v_d[i-1];
                    end
                end
                assign a_w[r*(C+1)] = a_d[r-1];
                assign v_w[r*(C+1)] = v_d[r-1];
                assign f_w[r*(C+1)] = f_d[r-1];
                assign l_w[r*(C+1)] = l_d[r-1];
            end
        end
        for (c = 0; c < C; c = c + 1) begin : g_colskew
            if (c == 0) begin : g_nodelay
                assign b_w[0] = b_vec[7:0];
            end else begin : g_delay
                reg [7:0] b_d [0:c-1];
                for (i = 0; i < c; i = i + 1) begin : g_stage
                    always @(posedge clk) b_d[i] <= (i == 0) ? b_vec[c*8 +: 8] : b_d[i-1];
                end
                assign b_w[c*(R+1)] = b_d[c-1];
            end
        end

        for (r = 0; r < R; r = r + 1) begin : g_row
            for (c = 0; c < C; c = c + 1) begin : g_col
                pe u_pe (
                    .clk(clk), .rst(rst),
                    .a_in(a_w[r*(C+1)+c]), .b_in(b_w[c*(R+1)+r]),
                    .v_in(v_w[r*(C+1)+c]), .first_in(f_w[r*(C+1)+c]), .last_in(l_w[r*(C+1)+c]),
                    .a_out(a_w[r*(C+1)+c+1]), .b_out(b_w[c*(R+1)+r+1]),
                    .v_out(v_w[r*(C+1)+c+1]), .first_out(f_w[r*(C+1)+c+1]), .last_out(l_w[r*(C+1)+c+1]),
                    .result(res_w[r*C+c])
                );
            end
        end

        // Row drain: once the row's last PE has captured, read its C results out one per cycle, then
        // de-skew (row r delayed R-1-r more cycles) so that all rows form one column word.
        for (r = 0; r < R; r = r + 1) begin : g_drain
            wire [C*32-1:0] row_results;
            for (c = 0; c < C; c = c + 1) begin : g_pack
                assign row_results[c*32 +: 32] = res_w[r*C+c];
            end
            wire start = v_w[r*(C+1)+C] & l_w[r*(C+1)+C];
            reg [CW-1:0] cnt;
            reg          active;
            reg [31:0]   word;
            /* verilator lint_off UNUSEDSIGNAL */
            reg          word_v;  // only row 0's copy is used (all rows drain in lock-step)
            /* verilator lint_on UNUSEDSIGNAL */
            always @(posedge clk) begin
                if (rst) begin
                    active <= 1'b0;
                    word_v <= 1'b0;
                    cnt <= {CW{1'b0}};
                end else begin
                    word_v <= start | active;
                    if (start) begin
                        word <= row_results[31:0];
                        cnt <= (C > 1) ? 1 : 0;
                        active <= (C > 1);
                    end else if (active) begin
                        word <= row_results[cnt*32 +: 32];
                        cnt <= cnt + 1'b1;
                        if (cnt == LAST_COL[CW-1:0]) active <= 1'b0;
                    end
                end
            end
            if (r == R - 1) begin : g_last
                assign out_vec[r*32 +: 32] = word;
                if (r == 0) begin : g_valid
                    assign out_valid = word_v;
                end
            end else begin : g_deskew
                reg [31:0] dly [0:R-2-r];
                for (i = 0; i < R - 1 - r; i = i + 1) begin : g_stage
                    always @(posedge clk) dly[i] <= (i == 0) ? word : dly[i-1];
                end
                assign out_vec[r*32 +: 32] = dly[R-2-r];
                if (r == 0) begin : g_valid
                    reg vd [0:R-2];
                    for (i = 0; i < R - 1; i = i + 1) begin : g_vstage
                        always @(posedge clk) begin
                            if (rst) vd[i] <= 1'b0;
                            else vd[i] <= (i == 0) ? word_v : vd[i-1];
                        end
                    end
                    assign out_valid = vd[R-2];
                end
            end
        end
    endgenerate
endmodule
