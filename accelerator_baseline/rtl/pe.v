// Processing element of the output-stationary systolic array: int8 x int8 -> int32 accumulate.
// Operand a (with its valid/first/last flags) moves right, operand b moves down, one register each.
// The accumulator is double-buffered: on the last beat of a tile the final sum is captured into `result`
// while the next tile starts accumulating, so drain overlaps compute.
module pe (
    input  wire               clk,
    input  wire               rst,
    input  wire signed [7:0]  a_in,
    input  wire signed [7:0]  b_in,
    input  wire               v_in,
    input  wire               first_in,
    input  wire               last_in,
    output reg  signed [7:0]  a_out,
    output reg  signed [7:0]  b_out,
    output reg                v_out,
    output reg                first_out,
    output reg                last_out,
    output reg  signed [31:0] result
);
    reg  signed [31:0] acc;
    wire signed [15:0] prod = a_in * b_in;
    wire signed [31:0] sum  = (first_in ? 32'sd0 : acc) + {{16{prod[15]}}, prod};

    always @(posedge clk) begin
        a_out <= a_in;
        b_out <= b_in;
        first_out <= first_in;
        last_out <= last_in;
        if (v_in) acc <= sum;
        if (v_in && last_in) result <= sum;
    end

    always @(posedge clk) begin
        if (rst) v_out <= 1'b0;
        else v_out <= v_in;
    end
endmodule
