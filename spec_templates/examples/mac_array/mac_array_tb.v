`timescale 1ns/1ps
// Self-checking testbench for mac_array: 20 random int8 GEMM tiles (K = 1..16, edge values included),
// compared with a behavioural model. Reports in the VerilogEval style ("Mismatches: N in M samples").
module mac_array_tb;
    localparam N = 4, W = 8, ACC = 24;
    reg clk = 0, rst = 1, clear = 0, valid = 0;
    reg  [N*W-1:0] a, b;
    wire [N*N*ACC-1:0] acc;
    reg signed [ACC-1:0] expected [0:N*N-1];
    integer tile, k, kmax, i, j, errors = 0, samples = 0, errortime = 0, seed = 7;
    reg signed [W-1:0] av, bv;

    mac_array #(.N(N), .W(W), .ACC(ACC)) dut (.clk(clk), .rst(rst), .clear(clear), .valid(valid), .a(a), .b(b), .acc(acc));

    always #5 clk = ~clk;

    initial begin
        a = 0; b = 0;
        repeat (2) @(posedge clk);
        rst <= 0;
        for (tile = 0; tile < 20; tile = tile + 1) begin
            kmax = 1 + {$random(seed)} % 16;
            for (i = 0; i < N*N; i = i + 1) expected[i] = 0;
            for (k = 0; k < kmax; k = k + 1) begin
                @(negedge clk);
                for (i = 0; i < N; i = i + 1) begin
                    av = (tile == 0) ? -8'sd128 : $random(seed);
                    bv = (tile == 0) ? -8'sd128 : $random(seed);
                    a[i*W +: W] = av;
                    b[i*W +: W] = bv;
                end
                for (i = 0; i < N; i = i + 1)
                    for (j = 0; j < N; j = j + 1)
                        expected[i*N+j] = expected[i*N+j] + $signed(a[i*W +: W]) * $signed(b[j*W +: W]);
                clear = (k == 0);
                valid = 1;
            end
            @(negedge clk);
            valid = 0;
            clear = 0;
            repeat (2) @(negedge clk);
            for (i = 0; i < N*N; i = i + 1) begin
                samples = samples + 1;
                if ($signed(acc[i*ACC +: ACC]) !== expected[i]) begin
                    if (errors == 0) errortime = $time;
                    errors = errors + 1;
                end
            end
        end
        if (errors) $display("Hint: Output '%s' has %0d mismatches. First mismatch occurred at time %0d.", "acc", errors, errortime);
        else $display("Hint: Output '%s' has no mismatches.", "acc");
        $display("Mismatches: %1d in %1d samples", errors, samples);
        $finish;
    end
endmodule
