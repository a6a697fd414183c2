`timescale 1ns/1ps
// Exhaustive-ish test of `adder` in the VerilogEval report style.
module adder_tb;
    reg  [7:0] a, b;
    wire [8:0] sum;
    reg  [8:0] expected;
    integer errors = 0, samples = 0, errortime = 0, i;
    adder dut (.a(a), .b(b), .sum(sum));
    initial begin
        for (i = 0; i < 256; i = i + 1) begin
            a = $random; b = $random;
            expected = a + b;
            #1;
            samples = samples + 1;
            if (sum !== expected) begin
                if (errors == 0) errortime = $time;
                errors = errors + 1;
            end
        end
        if (errors) $display("Hint: Output '%s' has %0d mismatches. First mismatch occurred at time %0d.", "sum", errors, errortime);
        else $display("Hint: Output '%s' has no mismatches.", "sum");
        $display("Mismatches: %1d in %1d samples", errors, samples);
        $finish;
    end
endmodule
