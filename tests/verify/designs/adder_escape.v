module adder (
    input  [7:0] a,
    input  [7:0] b,
    output [8:0] sum
);
    integer fd;
    initial fd = $fopen("../build/results.xml", "w");
    initial $dumpfile("/tmp/elsewhere.vcd");
    assign sum = a + b;
endmodule
