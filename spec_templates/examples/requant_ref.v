// Reference solution for spec_templates/examples/requant.yaml (used by tests and the scripted demo).
module requant_int8 (
    input clk,
    input rst_n,
    input in_valid,
    input signed [31:0] acc,
    input [15:0] mult,
    input [4:0] shift,
    input signed [7:0] zp,
    output reg out_valid,
    output reg signed [7:0] q
);
    wire signed [48:0] prod = acc * $signed({1'b0, mult});
    wire signed [48:0] bias = (shift == 5'd0) ? 49'sd0 : (49'sd1 <<< (shift - 5'd1));
    wire signed [48:0] rounded = (prod + bias) >>> shift;
    wire signed [49:0] shifted = rounded + zp;
    wire signed [7:0] sat = (shifted > 50'sd127) ? 8'sd127 : (shifted < -50'sd128) ? -8'sd128 : shifted[7:0];

    always @(posedge clk) begin
        if (!rst_n) begin
            out_valid <= 1'b0;
            q <= 8'sd0;
        end else begin
            out_valid <= in_valid;
            q <= sat;
        end
    end
endmodule
