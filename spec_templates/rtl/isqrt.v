// Digit-by-digit (restoring) integer square root, one result bit per cycle: root = floor(sqrt(v)).
// Serial unit: a `start` pulse loads v; `out_valid` pulses with the root W/2 + 1 cycles later.
// Bit-exact with accelerator_baseline.golden.isqrt_digits (= math.isqrt); the baseline vector_unit runs the
// same recurrence for LayerNorm.
module isqrt #(
    parameter W = 52
) (
    input  wire           clk,
    input  wire           rst,
    input  wire           start,
    input  wire [W-1:0]   v,
    output reg            out_valid,
    output reg  [W/2-1:0] root,
    output wire           busy
);
    localparam N = W / 2;
    reg  [W-1:0]  vsh;
    reg  [N+1:0]  rem;
    reg  [N-1:0]  acc;
    reg  [7:0]    iter;
    wire [N+3:0]  rem_sh = {rem, vsh[W-1:W-2]};
    wire [N+3:0]  trial = {2'b00, acc, 2'b01};
    wire          take = rem_sh >= trial;
    assign busy = (iter != 8'd0);
    always @(posedge clk) begin
        if (rst) begin
            iter <= 8'd0;
            out_valid <= 1'b0;
        end else begin
            out_valid <= 1'b0;
            if (start && !busy) begin
                vsh <= v;
                rem <= {(N + 2){1'b0}};
                acc <= {N{1'b0}};
                iter <= N;
            end else if (busy) begin
                vsh <= vsh << 2;
                rem <= take ? rem_sh[N+1:0] - trial[N+1:0] : rem_sh[N+1:0];
                acc <= {acc[N-2:0], take};
                iter <= iter - 8'd1;
                if (iter == 8'd1) begin
                    out_valid <= 1'b1;
                    root <= {acc[N-2:0], take};
                end
            end
        end
    end
endmodule
