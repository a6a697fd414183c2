// 4x4 int8 outer-product MAC array: a GEMM C = A x B is computed over K cycles by feeding column k of A on `a`
// and row k of B on `b`. Each PE (i, j) accumulates a[i] * b[j] into a signed ACC-bit register.
// Inputs are registered first, so results appear two cycles after the last valid operands.
module mac_array #(
    parameter N = 4,
    parameter W = 8,
    parameter ACC = 24
) (
    input                      clk,
    input                      rst,    // synchronous, active high
    input                      clear,  // start a new tile: accumulators restart from this cycle's product
    input                      valid,
    input      [N*W-1:0]       a,      // a[i] = a[i*W +: W], signed
    input      [N*W-1:0]       b,      // b[j] = b[j*W +: W], signed
    output     [N*N*ACC-1:0]   acc     // acc[i][j] = acc[(i*N+j)*ACC +: ACC], signed
);
    reg [N*W-1:0] a_q, b_q;
    reg           valid_q, clear_q;

    always @(posedge clk) begin
        if (rst) begin
            valid_q <= 1'b0;
            clear_q <= 1'b0;
        end else begin
            valid_q <= valid;
            clear_q <= clear;
        end
        a_q <= a;
        b_q <= b;
    end

    genvar i, j;
    generate
        for (i = 0; i < N; i = i + 1) begin : row
            for (j = 0; j < N; j = j + 1) begin : col
                reg signed [ACC-1:0] sum;
                wire signed [2*W-1:0] product = $signed(a_q[i*W +: W]) * $signed(b_q[j*W +: W]);
                wire signed [ACC-1:0] product_ext = {{(ACC-2*W){product[2*W-1]}}, product};
                always @(posedge clk) begin
                    if (rst)
                        sum <= {ACC{1'b0}};
                    else if (valid_q)
                        sum <= clear_q ? product_ext : sum + product_ext;
                end
                assign acc[(i*N+j)*ACC +: ACC] = $unsigned(sum);
            end
        end
    endgenerate
endmodule
