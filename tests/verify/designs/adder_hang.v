// A zero-delay combinational loop: the simulator never leaves time 0.
module adder (
    input  [7:0] a,
    input  [7:0] b,
    output [8:0] sum
);
    reg [8:0] r;
    always @* begin
        r = a + b;
        while (r != 9'h1ff) r = r + 1'b0;
    end
    assign sum = r;
endmodule
