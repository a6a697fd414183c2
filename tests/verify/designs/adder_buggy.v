// 8-bit adder with the carry dropped: lint clean, wrong in simulation.
module adder (
    input  [7:0] a,
    input  [7:0] b,
    output [8:0] sum
);
    assign sum = {1'b0, a[7:0] + b[7:0]} & 9'h0ff;
endmodule
