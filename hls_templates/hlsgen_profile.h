// hlsgen testbench support: the C-simulation loop counters behind HLSGEN_TRIP / HLSGEN_REGION /
// HLSGEN_STEP (hlsgen_common.h), compiled only with -DHLSGEN_PROFILE. Per image it writes, for every
// step of the program, the trips, invocations and work units of each pipelined loop, and for every
// DATAFLOW region instance those of its loops (identical instances counted once with a multiplicity).
// `hlsgen csim --json` turns them into cycles with the II and depth `hlsgen check` reads from the C++.
// Included by the testbench only (one translation unit): the counter functions the kernels call
// (declared in hlsgen_common.h) are defined here.
#ifndef HLSGEN_PROFILE_H
#define HLSGEN_PROFILE_H

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace hlsgen {
namespace prof {

struct counts {
    long long trips = 0, inv = 0, units = 0;
};

struct state {
    std::vector<std::pair<std::string, int> > sites;
    std::vector<counts> plain, region;
    std::vector<int> plain_used, region_used;
    std::map<std::pair<int, int>, counts> loops;           // (pc, site) -> counts
    std::map<std::string, long long> regions;              // "pc rsite site:t:i:u ..." -> instances
    int pc = -1, region_site = -1;
};

static state& st() {
    static state s;
    return s;
}

int site(const char* file, int line) {
    state& s = st();
    const char* base = std::strrchr(file, '/');
    const std::string name = base ? base + 1 : file;
    for (size_t i = 0; i < s.sites.size(); i++)
        if (s.sites[i].first == name && s.sites[i].second == line) return (int)i;
    s.sites.push_back(std::make_pair(name, line));
    s.plain.push_back(counts());
    s.region.push_back(counts());
    return (int)s.sites.size() - 1;
}

inline void bump(std::vector<counts>& c, std::vector<int>& used, int id, bool first, bool unit) {
    counts& k = c[id];
    if (k.trips == 0 && k.inv == 0) used.push_back(id);
    k.trips++;
    k.inv += first;
    k.units += unit;
}

void trip(int id, bool first, bool unit) {
    state& s = st();
    if (s.region_site >= 0)
        bump(s.region, s.region_used, id, first, unit);
    else
        bump(s.plain, s.plain_used, id, first, unit);
}

inline void flush_plain() {
    state& s = st();
    for (int id : s.plain_used) {
        counts& a = s.loops[std::make_pair(s.pc, id)];
        a.trips += s.plain[id].trips;
        a.inv += s.plain[id].inv;
        a.units += s.plain[id].units;
        s.plain[id] = counts();
    }
    s.plain_used.clear();
}

void step(int pc) {
    flush_plain();
    st().pc = pc;
}

void region_begin(int rsite) {
    flush_plain();
    st().region_site = rsite;
}

void region_end() {
    state& s = st();
    std::vector<int> ids = s.region_used;
    std::sort(ids.begin(), ids.end());
    std::string key = std::to_string(s.pc) + " " + std::to_string(s.region_site);
    for (int id : ids) {
        const counts& k = s.region[id];
        key += " " + std::to_string(id) + ":" + std::to_string(k.trips) + ":" + std::to_string(k.inv) + ":" +
               std::to_string(k.units);
        s.region[id] = counts();
    }
    s.region_used.clear();
    s.regions[key]++;
    s.region_site = -1;
}

// one image's counts, then reset
inline void dump(FILE* f, long image) {
    state& s = st();
    flush_plain();
    s.pc = -1;
    std::fprintf(f, "image %ld\n", image);
    for (const auto& kv : s.loops)
        std::fprintf(f, "loop %d %d %lld %lld %lld\n", kv.first.first, kv.first.second, kv.second.trips, kv.second.inv,
                     kv.second.units);
    for (const auto& kv : s.regions) std::fprintf(f, "region %lld %s\n", kv.second, kv.first.c_str());
    s.loops.clear();
    s.regions.clear();
}

// the loop sites (file, line) the counts refer to, after the last image
inline void dump_sites(FILE* f) {
    state& s = st();
    for (size_t i = 0; i < s.sites.size(); i++) std::fprintf(f, "site %zu %s %d\n", i, s.sites[i].first.c_str(), s.sites[i].second);
}

}  // namespace prof
}  // namespace hlsgen

#endif
