// tb_top.cpp: compiled Verilator harness of the accelerator top (vit_top), port level only.
// It plays the host and the memory system: AXI4 slave memories behind m_axi_gmem_in / gmem_w /
// gmem_out with the board's DDR timing (first beat `lat` cycles after a burst request, then `bpc`
// bytes per cycle sustained), and an AXI4-Lite master on s_axi_control that writes the three
// pointers, sets ap_start and waits for ap_done (interrupt enabled through GIE/IER, then the control
// register read back). The same harness compiles against any Verilog with the vit_top ports of
// INTERFACE.md (e.g. the RTL Vitis HLS exports).
//
//   tb_top WEIGHTS IMAGES OUT_JSON [images=N] [bpc=18] [lat=50] [trace=1] [+hg_blocks=B]
//
// IMAGES: raw int8 images back to back; OUT_JSON gets, per image, the result buffer (hex), the
// cycles from ap_start to ap_done and, with trace=1, the cycles spent on each descriptor (pc).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <chrono>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "Vvit_top.h"
#ifndef HG_NO_TRACE
#include "Vvit_top___024root.h"      // the twin's controller (pc, state) for per-op cycles
#endif
#include "verilated.h"

static const uint64_t IMG_BASE = 0x10000000ull, W_BASE = 0x20000000ull, RES_BASE = 0x30000000ull;
static const int BEAT = 32;

struct Memory {
    std::map<uint64_t, std::vector<uint8_t>*> regions;
    uint8_t* at(uint64_t a) {
        for (auto& r : regions)
            if (a >= r.first && a < r.first + r.second->size()) return &(*r.second)[a - r.first];
        return nullptr;
    }
};

// One AXI4 read slave port with DDR-like timing.
struct ReadPort {
    struct Burst { uint64_t addr; int beats; uint64_t ready_at; };
    std::deque<Burst> q;
    double credit = BEAT, bpc;
    uint64_t lat, busy_until = 0;
    int beat = 0;
    ReadPort(double b, uint64_t l) : bpc(b), lat(l) {}
};

#ifndef HG_NO_TRACE
// debugging: the raw image of a public memory array (VlUnpacked of VlWide / integer words)
template <class T> static void dump_mem(const std::string& path, const T& arr) {
    FILE* f = fopen(path.c_str(), "wb");
    if (f) { fwrite(&arr, sizeof(arr), 1, f); fclose(f); }
}
#endif

static std::vector<uint8_t> read_file(const char* p) {
    FILE* f = fopen(p, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", p); exit(2); }
    std::vector<uint8_t> d;
    uint8_t buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) d.insert(d.end(), buf, buf + n);
    fclose(f);
    return d;
}

int main(int argc, char** argv) {
    Verilated::commandArgs(argc, argv);
    if (argc < 4) { fprintf(stderr, "usage: tb_top WEIGHTS IMAGES OUT_JSON [images=N] [bpc=] [lat=] [trace=1]\n"); return 2; }
    double bpc = 18.0; uint64_t lat = 50; int images = -1, trace = 0; long img_bytes = 0, res_bytes = 0;
    int dump_pc = -1; std::string dump_dir = ".";
    for (int i = 4; i < argc; i++) {
        if (!strncmp(argv[i], "images=", 7)) images = atoi(argv[i] + 7);
        if (!strncmp(argv[i], "bpc=", 4)) bpc = atof(argv[i] + 4);
        if (!strncmp(argv[i], "lat=", 4)) lat = atoll(argv[i] + 4);
        if (!strncmp(argv[i], "trace=", 6)) trace = atoi(argv[i] + 6);
        if (!strncmp(argv[i], "img_bytes=", 10)) img_bytes = atol(argv[i] + 10);
        if (!strncmp(argv[i], "res_bytes=", 10)) res_bytes = atol(argv[i] + 10);
        if (!strncmp(argv[i], "dump_pc=", 8)) dump_pc = atoi(argv[i] + 8);
        if (!strncmp(argv[i], "dump_dir=", 9)) dump_dir = argv[i] + 9;
    }
    std::vector<uint8_t> weights = read_file(argv[1]), all_images = read_file(argv[2]);
    if (img_bytes <= 0 || res_bytes <= 0) { fprintf(stderr, "img_bytes= and res_bytes= are required\n"); return 2; }
    int n_img = (int)(all_images.size() / img_bytes);
    if (images >= 0 && images < n_img) n_img = images;
    std::vector<uint8_t> image(((img_bytes + BEAT - 1) / BEAT) * BEAT), result(((res_bytes + BEAT - 1) / BEAT) * BEAT);
    weights.resize(((weights.size() + BEAT - 1) / BEAT) * BEAT);
    Memory mem;
    mem.regions[IMG_BASE] = &image; mem.regions[W_BASE] = &weights; mem.regions[RES_BASE] = &result;

    VerilatedContext* ctx = new VerilatedContext;
    ctx->commandArgs(argc, argv);
    Vvit_top* top = new Vvit_top{ctx};
    ReadPort pin(bpc, lat), pw(bpc, lat);
    uint64_t cyc = 0;
    // write port state
    bool aw_have = false; uint64_t aw_addr = 0; int w_beat = 0; int b_delay = -1;

    auto tick = [&]() {
        top->ap_clk = 0; top->eval();
        // ---- sample outputs, compute the slave responses for this edge ----
        auto rd = [&](ReadPort& p, uint8_t& arready, uint8_t arvalid, uint64_t araddr, uint8_t arlen,
                      uint8_t& rvalid, uint8_t rready, VlWide<8>& rdata, uint8_t& rlast, bool fire_r) {
            (void)arready;
            if (arvalid) p.q.push_back({araddr, arlen + 1, cyc + p.lat});
            if (fire_r) {
                p.credit -= BEAT;
                if (++p.beat == p.q.front().beats) { p.q.pop_front(); p.beat = 0; }
            }
            p.credit = std::min(p.credit + p.bpc, (double)BEAT + p.bpc);
            rvalid = 0; rlast = 0;
            if (!p.q.empty() && cyc + 1 >= p.q.front().ready_at && p.credit >= BEAT) {
                uint64_t a = p.q.front().addr + (uint64_t)p.beat * BEAT;
                uint8_t* src = mem.at(a);
                for (int w = 0; w < 8; w++) {
                    uint32_t v = 0;
                    for (int b = 0; b < 4; b++) v |= (uint32_t)(src ? src[w * 4 + b] : 0) << (8 * b);
                    rdata[w] = v;
                }
                rvalid = 1;
                rlast = (p.beat == p.q.front().beats - 1);
            }
            (void)rready;
        };
        bool fin = top->m_axi_gmem_in_RVALID && top->m_axi_gmem_in_RREADY;
        bool fw = top->m_axi_gmem_w_RVALID && top->m_axi_gmem_w_RREADY;
        uint8_t arv_in = top->m_axi_gmem_in_ARVALID, arv_w = top->m_axi_gmem_w_ARVALID;
        uint64_t ara_in = top->m_axi_gmem_in_ARADDR, ara_w = top->m_axi_gmem_w_ARADDR;
        uint8_t arl_in = top->m_axi_gmem_in_ARLEN, arl_w = top->m_axi_gmem_w_ARLEN;
        // write channel
        if (top->m_axi_gmem_out_AWVALID && top->m_axi_gmem_out_AWREADY) { aw_have = true; aw_addr = top->m_axi_gmem_out_AWADDR; w_beat = 0; }
        if (top->m_axi_gmem_out_WVALID && top->m_axi_gmem_out_WREADY) {
            uint64_t a = aw_addr + (uint64_t)w_beat * BEAT;
            uint32_t strb = top->m_axi_gmem_out_WSTRB;
            for (int b = 0; b < BEAT; b++) {
                uint8_t* dst = mem.at(a + b);
                if (dst && ((strb >> b) & 1)) *dst = (top->m_axi_gmem_out_WDATA[b / 4] >> (8 * (b % 4))) & 0xFF;
            }
            w_beat++;
            if (top->m_axi_gmem_out_WLAST) b_delay = 4;
        }
        top->ap_clk = 1; top->eval(); cyc++;
        // ---- drive the slave outputs for the next cycle ----
        uint8_t dummy = 0;
        rd(pin, dummy, arv_in, ara_in, arl_in, top->m_axi_gmem_in_RVALID, top->m_axi_gmem_in_RREADY,
           top->m_axi_gmem_in_RDATA, top->m_axi_gmem_in_RLAST, fin);
        rd(pw, dummy, arv_w, ara_w, arl_w, top->m_axi_gmem_w_RVALID, top->m_axi_gmem_w_RREADY,
           top->m_axi_gmem_w_RDATA, top->m_axi_gmem_w_RLAST, fw);
        top->m_axi_gmem_in_ARREADY = 1; top->m_axi_gmem_w_ARREADY = 1;
        top->m_axi_gmem_out_AWREADY = !aw_have; top->m_axi_gmem_out_WREADY = aw_have;
        if (top->m_axi_gmem_out_BVALID && top->m_axi_gmem_out_BREADY) top->m_axi_gmem_out_BVALID = 0;
        if (b_delay >= 0 && b_delay-- == 0) { top->m_axi_gmem_out_BVALID = 1; aw_have = false; }
    };
    auto lite_write = [&](uint32_t a, uint32_t d) {
        top->s_axi_control_AWVALID = 1; top->s_axi_control_AWADDR = a;
        top->s_axi_control_WVALID = 1; top->s_axi_control_WDATA = d; top->s_axi_control_WSTRB = 0xF;
        top->s_axi_control_BREADY = 1;
        bool aw = false, w = false;
        for (int i = 0; i < 100 && !(aw && w); i++) {
            top->eval();
            bool fa = top->s_axi_control_AWREADY, fwd = top->s_axi_control_WREADY;
            tick();
            if (fa) { aw = true; top->s_axi_control_AWVALID = 0; }
            if (fwd) { w = true; top->s_axi_control_WVALID = 0; }
        }
        for (int i = 0; i < 100 && !top->s_axi_control_BVALID; i++) tick();
        tick();
        top->s_axi_control_BREADY = 0;
    };
    auto lite_read = [&](uint32_t a) -> uint32_t {
        top->s_axi_control_ARVALID = 1; top->s_axi_control_ARADDR = a; top->s_axi_control_RREADY = 1;
        for (int i = 0; i < 100; i++) {
            top->eval();
            bool fa = top->s_axi_control_ARREADY;
            tick();
            if (fa) break;
        }
        top->s_axi_control_ARVALID = 0;
        uint32_t v = 0;
        for (int i = 0; i < 100; i++) {
            if (top->s_axi_control_RVALID) { v = top->s_axi_control_RDATA; break; }
            tick();
        }
        tick();
        top->s_axi_control_RREADY = 0;
        return v;
    };

    top->ap_rst_n = 0;
    for (int i = 0; i < 10; i++) tick();
    top->ap_rst_n = 1;
    for (int i = 0; i < 4; i++) tick();
    lite_write(0x04, 1); lite_write(0x08, 1);
    lite_write(0x10, (uint32_t)IMG_BASE); lite_write(0x14, (uint32_t)(IMG_BASE >> 32));
    lite_write(0x1C, (uint32_t)W_BASE); lite_write(0x20, (uint32_t)(W_BASE >> 32));
    lite_write(0x28, (uint32_t)RES_BASE); lite_write(0x2C, (uint32_t)(RES_BASE >> 32));

    FILE* out = fopen(argv[3], "w");
    fprintf(out, "{\"images\": [\n");
    auto t0 = std::chrono::steady_clock::now();
    uint64_t sim_cycles = 0;
    for (int n = 0; n < n_img; n++) {
        memcpy(image.data(), &all_images[(size_t)n * img_bytes], img_bytes);
        std::fill(result.begin(), result.end(), 0);
        lite_write(0x00, 1);
        uint64_t c0 = cyc;
        std::map<int, uint64_t> per_pc;
        const uint64_t limit = cyc + 2000000000ull;
        while (!top->__SYM__interrupt && cyc < limit) {   // the port `interrupt` (a C++ keyword for Verilator)
#ifndef HG_NO_TRACE
            if (trace && top->rootp->vit_top__DOT__state != 0) per_pc[top->rootp->vit_top__DOT__pc]++;
            if (n == 0 && dump_pc >= 0 && top->rootp->vit_top__DOT__state == 1 &&
                top->rootp->vit_top__DOT__pc == dump_pc + 1) {     // descriptor dump_pc just finished
                auto* r = top->rootp;
                dump_mem(dump_dir + "/x.bin", r->vit_top__DOT__u_x__DOT__mem);
                dump_mem(dump_dir + "/a.bin", r->vit_top__DOT__u_a__DOT__mem);
                dump_mem(dump_dir + "/q.bin", r->vit_top__DOT__u_q1__DOT__mem);
                dump_mem(dump_dir + "/h.bin", r->vit_top__DOT__u_h__DOT__mem);
                dump_mem(dump_dir + "/s.bin", r->vit_top__DOT__u_s__DOT__mem);
                dump_pc = -1;
            }
#endif
            tick();
        }
        uint64_t cycles = cyc - c0;
        sim_cycles += cycles;
        uint32_t ctrl = lite_read(0x00);
        lite_write(0x0C, 1);                          // clear ISR[0] (toggle on write)
        fprintf(out, "%s {\"cycles\": %llu, \"done\": %d, \"result\": \"", n ? "," : "", (unsigned long long)cycles,
                (ctrl >> 1) & 1);
        for (long b = 0; b < res_bytes; b++) fprintf(out, "%02x", result[b]);
        fprintf(out, "\"");
        if (trace) {
            fprintf(out, ", \"per_pc\": {");
            bool first = true;
            for (auto& kv : per_pc) { fprintf(out, "%s\"%d\": %llu", first ? "" : ", ", kv.first, (unsigned long long)kv.second); first = false; }
            fprintf(out, "}");
        }
        fprintf(out, "}\n");
        fflush(out);
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fprintf(out, "], \"sim_cycles\": %llu, \"seconds\": %.3f}\n", (unsigned long long)sim_cycles, secs);
    fclose(out);
    top->final();
    delete top;
    delete ctx;
    return 0;
}
