// On-chip buffers: simple synchronous SRAM models (one write port, one or two registered read ports).
// Depth and width are parameters; the block scheduler sizes each buffer for its block shape. sram_1w2r has a
// write mask of MASK_LANES lanes (a byte mask for int8 lanes, as compiled SRAMs offer).
module sram_1w1r #(
    parameter WIDTH = 128,
    parameter DEPTH = 256,
    parameter AW = (DEPTH > 1) ? $clog2(DEPTH) : 1
) (
    input  wire             clk,
    input  wire             we,
    input  wire [AW-1:0]    waddr,
    input  wire [WIDTH-1:0] wdata,
    input  wire             re,
    input  wire [AW-1:0]    raddr,
    output reg  [WIDTH-1:0] rdata
);
    reg [WIDTH-1:0] mem [0:DEPTH-1];
    always @(posedge clk) begin
        if (we) mem[waddr] <= wdata;
        if (re) rdata <= mem[raddr];
    end
endmodule

module sram_1w2r #(
    parameter WIDTH = 128,
    parameter DEPTH = 256,
    parameter MASK_LANES = 1,
    parameter AW = (DEPTH > 1) ? $clog2(DEPTH) : 1
) (
    input  wire             clk,
    input  wire             we,
    input  wire [MASK_LANES-1:0] wmask,
    input  wire [AW-1:0]    waddr,
    input  wire [WIDTH-1:0] wdata,
    input  wire             re_a,
    input  wire [AW-1:0]    raddr_a,
    output reg  [WIDTH-1:0] rdata_a,
    input  wire             re_b,
    input  wire [AW-1:0]    raddr_b,
    output reg  [WIDTH-1:0] rdata_b
);
    localparam LW = WIDTH / MASK_LANES;
    reg [WIDTH-1:0] mem [0:DEPTH-1];
    integer i;
    always @(posedge clk) begin
        for (i = 0; i < MASK_LANES; i = i + 1)
            if (we && wmask[i]) mem[waddr][i*LW +: LW] <= wdata[i*LW +: LW];
        if (re_a) rdata_a <= mem[raddr_a];
        if (re_b) rdata_b <= mem[raddr_b];
    end
endmodule
