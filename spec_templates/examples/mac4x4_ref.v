// Reference solution for spec_templates/examples/mac4x4.yaml (used by tests).
module mac_array_4x4 #(
    parameter ACC_W = 24
) (
    input clk,
    input rst_n,
    input en,
    input clear,
    input [31:0] a,
    input [31:0] b,
    output [16*ACC_W-1:0] acc
);
    genvar i, j;
    generate
        for (i = 0; i < 4; i = i + 1) begin : row
            for (j = 0; j < 4; j = j + 1) begin : col
                reg signed [ACC_W-1:0] c;
                wire signed [15:0] p = $signed(a[8*i +: 8]) * $signed(b[8*j +: 8]);
                always @(posedge clk) begin
                    if (!rst_n) c <= 0;
                    else c <= (clear ? {ACC_W{1'b0}} : c) + (en ? {{(ACC_W-16){p[15]}}, p} : {ACC_W{1'b0}});
                end
                assign acc[(4*i+j)*ACC_W +: ACC_W] = c;
            end
        end
    endgenerate
endmodule
