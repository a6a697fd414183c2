// Restoring division for the reciprocal floor(2^31 / d), d >= 1, one quotient bit per cycle.
// Serial unit: a `start` pulse loads d; `out_valid` pulses with q 33 cycles later.
// Bit-exact with accelerator_baseline.golden.recip_floor(31, d); the baseline vector_unit uses the same
// divider for the softmax row sum and the LayerNorm standard deviation.
module recip (
    input  wire        clk,
    input  wire        rst,
    input  wire        start,
    input  wire [31:0] d,
    output reg         out_valid,
    output reg  [31:0] q,
    output wire        busy
);
    reg  [31:0] div;
    reg  [32:0] rem;
    reg  [31:0] quo;
    reg  [5:0]  iter;  // quotient bits still to produce (32 .. 1)
    wire [32:0] rem_sh = {rem[31:0], iter == 6'd32};  // numerator 2^31: its only 1 enters first
    wire        take = rem_sh >= {1'b0, div};
    assign busy = (iter != 6'd0);
    always @(posedge clk) begin
        if (rst) begin
            iter <= 6'd0;
            out_valid <= 1'b0;
        end else begin
            out_valid <= 1'b0;
            if (start && !busy) begin
                div <= d;
                rem <= 33'd0;
                quo <= 32'd0;
                iter <= 6'd32;
            end else if (busy) begin
                rem <= take ? rem_sh - {1'b0, div} : rem_sh;
                quo <= {quo[30:0], take};
                iter <= iter - 6'd1;
                if (iter == 6'd1) begin
                    out_valid <= 1'b1;
                    q <= {quo[30:0], take};
                end
            end
        end
    end
endmodule
