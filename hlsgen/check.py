"""`hlsgen check`: a static check of the emitted HLS C++, read as Vitis HLS reads it (hlsgen.cxx_ast).

Every function is analysed under the template bindings its call sites give it (starting from the
top function; a function nobody calls, standalone). Rules, each with a name:
  bank-static          in a pipelined loop, an index into a partitioned dimension whose bank is not a
                       compile-time function of the unrolled loop counters
  bank-ports           more accesses to one bank per iteration than the memory's ports (2)
  dataflow-canonical   a DATAFLOW region with a conditional task call, a statement that is not a task
                       call or a channel declaration, a channel with several producers or consumers,
                       or a bypass (a channel between tasks that are not consecutive)
  engine-instances     an engine function (HLSGEN_ENGINE) with more call sites than the model counts
                       instances, and no ALLOCATION pragma limiting it
  maxi-conditional     an m_axi access under a condition inside a pipelined loop
  parallelism-used     a parallelism field of design.yaml that no unrolled loop bound or partition uses
  loop-counted         a pipelined loop without its HLSGEN_TRIP counter (C simulation cannot count it)
and one warning:
  memory-dependence    a memory both read and written in a pipelined loop with no DEPENDENCE pragma: Vitis
                       keeps the accesses in order (extra stages), and a value that flows from the read
                       back into the write makes a recurrence that breaks II = 1
Loops inside a pipelined loop, and every loop of a function called from one, are unrolled (as Vitis
does); their counters are the unrolled counters.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from hlsgen.check_values import ArrayInfo, Ctx, TypeRef, ValueResolver
from hlsgen.cxx_eval import const, sym
from hlsgen.cxx_model import Function, Loop, Unit

RULES = ("bank-static", "bank-ports", "dataflow-canonical", "engine-instances", "maxi-conditional",
         "parallelism-used", "loop-counted")
WARNINGS = ("memory-dependence",)
PORTS = 2            # BRAM / LUTRAM: true dual port
MAX_INSTANCES = 1 << 16


@dataclass
class Finding:
    rule: str
    file: str
    line: int
    message: str

    def as_dict(self) -> dict:
        return {"rule": self.rule, "file": self.file, "line": self.line, "message": self.message}


@dataclass
class LoopRecord:
    function: str
    file: str
    line: int
    counter_line: int
    trip_count: int | None
    ii: int | None
    depth: int | None
    dma: bool = False
    region: str = ""           # the DATAFLOW function whose task runs it
    task: str = ""


@dataclass
class Report:
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    loops: dict = field(default_factory=dict)      # (file, line) -> LoopRecord
    engines: dict = field(default_factory=dict)    # engine -> call sites
    dsp: dict = field(default_factory=dict)        # function -> multiplies
    chains: dict = field(default_factory=dict)     # DATAFLOW function -> [[task, ...] joined by streams]

    def error(self, rule, file, line, msg):
        f = Finding(rule, file, line, msg)
        if f not in self.errors:
            self.errors.append(f)

    def warn(self, rule, file, line, msg):
        f = Finding(rule, file, line, msg)
        if f not in self.warnings:
            self.warnings.append(f)


class Checker(ValueResolver):
    def __init__(self, unit: Unit, par_fields: dict | None = None, engine_instances: dict | None = None,
                 par_lines: dict | None = None):
        self.u = unit
        self.par_fields = par_fields or {}
        self.par_lines = par_lines or {}       # field -> its line in design.yaml
        self.engine_instances = engine_instances or {}
        self.report = Report()
        self.done: set = set()
        self.names_used: set = set()      # config names in unrolled bounds and partition factors
        self.roots: dict = {}             # declaration -> ArrayInfo (partitioning merged over its users)
        self.used: set = set()            # roots some function accesses
        self.streams: dict = {}           # (file, line) -> (name, width bits, depth)
        self.top = "vit_top"

    # ---- analysis -------------------------------------------------------------------------------
    def run(self, top: str = "vit_top") -> Report:
        self.top = top
        fn = self.u.function(top)
        if fn is not None:
            self.analyse(Ctx(fn, {}, self.unit_arrays(), {}, False))
        for fns in self.u.functions.values():              # every function, called from the top or not
            for f in fns:
                if not f.tparams and (f.name, ()) not in self.done:
                    self.analyse(Ctx(f, {}, self.unit_arrays(), {}, False))
        self.engines()
        for name, value in self.par_fields.items():
            if name.upper() not in self.names_used and value > 1:
                self.report.error("parallelism-used", "design.yaml", self.par_lines.get(name, 0),
                                  f"parallelism field {name} = {value} appears in no unrolled loop bound or partition "
                                  "factor of the C++: the engine does not build it")
        return self.report

    def key(self, ctx: Ctx) -> tuple:
        return (ctx.fn.name, tuple(sorted((k, str(v)) for k, v in ctx.binding.items())), ctx.pipeline,
                tuple(sorted((k, a.root) for k, a in ctx.arrays.items())))

    def analyse(self, ctx: Ctx) -> None:
        k = self.key(ctx)
        if k in self.done:
            return
        self.done.add(k)
        if not ctx.binding:
            self.done.add((ctx.fn.name, ()))
        fn = ctx.fn
        self.declare_arrays(ctx)
        for a in fn.accesses:                  # memories nobody accesses are removed by synthesis
            if a.array in ctx.arrays:
                self.used.add(ctx.arrays[a.array].root)
        if fn.pragma("DATAFLOW"):
            self.dataflow(ctx)
        for lp in fn.loops:
            self.record_unroll_names(lp, ctx)
            if lp.pipelined:
                self.pipelined_loop(lp, ctx)
        for call in fn.calls:
            callee = self.callee_ctx(call, ctx)
            if callee is not None:
                self.analyse(callee)

    def declare_arrays(self, ctx: Ctx) -> None:
        fn = ctx.fn
        for p in fn.params:
            if p.name in ctx.arrays:
                info = ctx.arrays[p.name]
                own = self.partitions(p.name, fn, ctx, None)
                if own:
                    info = ArrayInfo(info.root, info.dims, info.bits, {**info.parts, **own}, info.pointer, info.maxi,
                                     info.where)
                    self.note_root(info)
                ctx.arrays[p.name] = info
            elif p.dims or p.pointer:
                ctx.arrays[p.name] = ArrayInfo(f"{fn.name}:{p.name}", [self.int_of(d, ctx) for d in p.dims],
                                               self.bits_of(p.type_tokens, ctx), self.partitions(p.name, fn, ctx, None),
                                               p.pointer, self.is_maxi(fn, p.name), (fn.file, fn.line))
        for name, a in fn.arrays.items():
            info = ArrayInfo(f"{fn.name}:{name}", [self.int_of(d, ctx) for d in a.dims], self.bits_of(a.type_tokens, ctx),
                             self.partitions(name, fn, ctx, a.loop), where=(a.file, a.line))
            ctx.arrays[name] = info
            if a.static or fn.name == self.top or a.loop is None:
                self.note_root(info)
        for name, (line, type_toks) in fn.streams.items():
            pr = next((p for p in fn.pragma("STREAM") if (p.args.get("variable") or [""])[0] == name), None)
            depth = self.int_of(pr.args.get("depth", ["2"]), ctx) if pr else 2
            self.streams[(fn.file, line, name)] = (f"{fn.name}:{name}", self.stream_bits(type_toks, ctx), depth or 2)

    def unit_arrays(self) -> dict:
        """The namespace-scope arrays (constant tables) as the top function sees them."""
        out = {}
        for name, a in self.u.arrays.items():
            out[name] = ArrayInfo(f"::{name}", [self.int_of(d, None) for d in a.dims], self.bits_of(a.type_tokens, None),
                                  {}, where=(a.file, a.line))
            self.note_root(out[name])
        return out

    def note_root(self, info: ArrayInfo) -> None:
        """The memory behind an array, with every partitioning any function applies to it."""
        old = self.roots.get(info.root)
        self.roots[info.root] = info if old is None else ArrayInfo(
            old.root, old.dims, old.bits, {**old.parts, **info.parts}, old.pointer, old.maxi, old.where)

    def is_maxi(self, fn: Function, name: str) -> bool:
        return any(p.words[:1] == ["m_axi"] and (p.args.get("port") or [""])[0] == name for p in fn.pragma("INTERFACE"))

    def partitions(self, name: str, fn: Function, ctx: Ctx, loop: Loop | None) -> dict:
        prs = [p for p in fn.pragmas if p.kind == "ARRAY_PARTITION"]
        lp = loop
        while lp is not None:
            prs += [p for p in lp.pragmas if p.kind == "ARRAY_PARTITION"]
            lp = lp.parent
        out = {}
        for p in prs:
            if (p.args.get("variable") or [""])[0] != name:
                continue
            dim = self.int_of(p.args.get("dim", ["1"]), ctx)
            kind = next((w for w in p.words if w in ("complete", "cyclic", "block")), "complete")
            factor = None
            if "factor" in p.args:
                v = self.eval(p.args["factor"], ctx)
                if v is not None:
                    self.names_used |= set(v.names)
                    factor = v.const if v.is_const else None
            out[dim] = (kind, factor)
        return out

    def record_unroll_names(self, lp: Loop, ctx: Ctx) -> None:
        inner = lp.unrolled or ctx.pipeline or _inside_pipeline(lp)
        if inner and lp.bound:
            v = self.eval(lp.bound, ctx)
            if v is not None:
                self.names_used |= set(v.names)

    def callee_ctx(self, call, ctx: Ctx) -> Ctx | None:
        fns = self.u.functions.get(call.callee)
        if not fns or call.obj:
            return None
        fn = fns[0] if len(fns) == 1 else next((f for f in fns if len(f.params) == len(call.args)), fns[0])
        binding, names = {}, {}
        for (name, is_type), toks in zip(fn.tparams, call.targs):
            if is_type:
                v = self.type_of(toks, ctx) or TypeRef("".join(toks), (), tuple(self.concrete(toks, ctx)))
            else:
                a = self.eval(toks, ctx)
                v = a.const if a is not None and a.is_const else None
                names[name] = a.names if a is not None else ()
            if v is None:
                return None
            binding[name] = v
        if len(binding) < len(fn.tparams):
            return None
        arrays, scalars = {}, {}
        in_pipe = ctx.pipeline or (call.loop is not None and _inside_pipeline(call.loop, include_self=True))
        scope = self.unrolled_scope(call.loop, ctx)
        for p, toks in zip(fn.params, call.args):
            name = toks[0] if len(toks) == 1 else None
            if name is not None and name in ctx.arrays and (p.dims or p.pointer):
                arrays[p.name] = ctx.arrays[name]
            elif not (p.dims or p.pointer):
                v = self.eval(toks, ctx, scope=scope)
                scalars[p.name] = v if v is not None else sym(f"{call.callee}.{p.name}", False)
        return Ctx(fn, binding, arrays, scalars, in_pipe, names)

    def unrolled_scope(self, loop: Loop | None, ctx: Ctx) -> dict:
        """Loop counters visible at a point: static syms for unrolled loops, runtime for the others."""
        scope = {}
        lp = loop
        while lp is not None:
            if lp.var and lp.var not in scope:
                static = lp.unrolled or ctx.pipeline or _inside_pipeline(lp)
                scope[lp.var] = sym(f"{lp.file}:{lp.line}:{lp.var}", static)
            lp = lp.parent
        return scope

    # ---- pipelined loops ----------------------------------------------------------------------------
    def pipelined_loop(self, lp: Loop, ctx: Ctx) -> None:
        fn, rep = ctx.fn, self.report
        ii = self.int_of((lp.pragma("PIPELINE").args.get("ii") or ["1"]), ctx)
        lat = lp.pragma("LATENCY")
        depth = self.int_of(lat.args["max"], ctx) if lat and "max" in lat.args else None
        tc = lp.pragma("LOOP_TRIPCOUNT")
        trip = self.int_of(tc.args["max"], ctx) if tc and "max" in tc.args else self.int_of(lp.bound, ctx)
        if not lp.counted:
            rep.error("loop-counted", lp.file, lp.line, f"pipelined loop in {fn.name} has no HLSGEN_TRIP counter: "
                      "C simulation cannot count its iterations")
        accesses = list(self.accesses_in(lp, ctx))
        dma = any(info.maxi for _, info, *_ in accesses)
        key = (lp.file, lp.line)
        old = rep.loops.get(key)
        rec = LoopRecord(fn.name, lp.file, lp.line, lp.counter_line, trip, ii,
                         max(depth or 0, (old.depth or 0) if old else 0) or None, dma)
        if old:
            rec.region, rec.task = old.region, old.task
        rep.loops[key] = rec
        ports: dict = {}
        for acc, info, scope, loops, actx, outer in accesses:
            if self.dead(acc.guards, actx, scope):
                continue
            if info.maxi:
                own = acc.guards[len(lp.guards):] if actx is ctx else acc.guards
                if own or outer:
                    rep.error("maxi-conditional", acc.file, acc.line,
                              f"m_axi access {acc.array}[...] under a condition in the pipelined loop at "
                              f"{lp.file}:{lp.line}: no burst is inferred")
                continue
            if not info.parts:
                continue
            self.bank_check(acc, info, scope, loops, lp, actx, ports, outer)
        self.dependences(lp, ctx, accesses)
        for (root, bank), users in ports.items():
            n = _concurrent(users)
            if n > PORTS:
                rep.error("bank-ports", lp.file, lp.line, f"{n} accesses per iteration to bank {bank} of {root} "
                          f"(a memory has {PORTS} ports)")

    def dependences(self, lp: Loop, ctx: Ctx, accesses: list) -> None:
        declared = set()
        cur = lp
        while cur is not None:
            for p in cur.pragmas:
                if p.kind == "DEPENDENCE":
                    name = (p.args.get("variable") or [""])[0]
                    if name in ctx.arrays:
                        declared.add(ctx.arrays[name].root)
            cur = cur.parent
        kinds: dict = {}
        for acc, info, scope, _, actx, _ in accesses:
            if info.maxi or info.bits is None or self.dead(acc.guards, actx, scope):
                continue
            complete = {d for d, (kind, _) in info.parts.items() if kind == "complete"}
            if 0 in complete or len(complete) >= len(info.dims):
                continue                                  # registers
            kinds.setdefault(info.root, set()).add(acc.write)
        for root, rw in sorted(kinds.items()):
            if rw == {True, False} and root not in declared:
                self.report.warn("memory-dependence", lp.file, lp.line,
                                 f"{root.split(':')[-1]} is read and written in the pipelined loop in {ctx.fn.name} with no "
                                 "DEPENDENCE pragma: Vitis orders the accesses (and a recurrence through it breaks II = 1)")

    def accesses_in(self, lp: Loop | None, ctx: Ctx, outer: tuple = (), depth: int = 0):
        """(access, array info, scope of counters, unrolled loops, its context, the conditions of the calls
        leading to it) of a pipelined loop's body (lp) and of the functions it calls (inlined: all their
        loops unrolled); lp None: a whole function called from a pipelined loop."""
        fn = ctx.fn
        for a in fn.accesses:
            if lp is not None and not _within(a.loop, lp):
                continue
            info = ctx.arrays.get(a.array)
            if info is not None:
                yield a, info, self.scope_for(a.loop, lp, ctx), _loops_between(a.loop, lp), ctx, outer
        if depth > 8:
            return
        for call in fn.calls:
            if lp is not None and not _within(call.loop, lp):
                continue
            scope = self.scope_for(call.loop, lp, ctx)
            if self.dead(call.guards, ctx, scope):
                continue
            sub = self.callee_ctx(call, Ctx(fn, ctx.binding, ctx.arrays, {**ctx.scalars, **scope}, ctx.pipeline, ctx.names))
            if sub is None:
                continue
            sub.pipeline = True
            self.declare_arrays_light(sub)
            inner = call.guards[len(lp.guards):] if lp is not None and call.loop is not None else call.guards
            yield from self.accesses_in(None, sub, outer + tuple(inner), depth + 1)

    def declare_arrays_light(self, ctx: Ctx) -> None:
        fn = ctx.fn
        for p in fn.params:
            if p.name in ctx.arrays:
                own = self.partitions(p.name, fn, ctx, None)
                if own:
                    i = ctx.arrays[p.name]
                    ctx.arrays[p.name] = ArrayInfo(i.root, i.dims, i.bits, own, i.pointer, i.maxi)
        for name, a in fn.arrays.items():
            ctx.arrays[name] = ArrayInfo(f"{fn.name}:{name}", [self.int_of(d, ctx) for d in a.dims],
                                         self.bits_of(a.type_tokens, ctx), self.partitions(name, fn, ctx, a.loop))

    def scope_for(self, loop: Loop | None, pipe: Loop | None, ctx: Ctx) -> dict:
        scope = {}
        lp = loop
        while lp is not None:
            if lp.var and lp.var not in scope:
                static = (lp is not pipe and (pipe is None and ctx.pipeline or _within(lp, pipe, strict=True)
                                              or lp.unrolled))
                scope[lp.var] = sym(f"{lp.file}:{lp.line}:{lp.var}", bool(static))
            lp = lp.parent
        return scope

    # ---- conditions ----------------------------------------------------------------------------------
    def guard_value(self, g, ctx: Ctx, scope: dict) -> bool | None:
        """A condition's value when it is a compile-time constant, else None."""
        if g.tokens is None:
            return None
        v = self.eval(list(g.tokens), ctx, scope=scope)
        if v is None or not v.is_const:
            return None
        return bool(v.const) == g.taken

    def dead(self, guards, ctx: Ctx, scope: dict) -> bool:
        """Under a condition that is false at compile time (a branch Vitis removes)."""
        return any(self.guard_value(g, ctx, scope) is False for g in guards)

    def instance_guards(self, guards, ctx: Ctx, scope: dict) -> list:
        """Conditions on unrolled counters only: they decide which unrolled copies exist."""
        out = []
        for g in guards:
            if g.tokens is None:
                continue
            v = self.eval(list(g.tokens), ctx, scope=scope)
            if v is not None and not v.is_const and not v.runtime:
                out.append(g)
        return out

    def taken(self, guards, ctx: Ctx, scope: dict) -> bool:
        return all(self.guard_value(g, ctx, scope) is not False for g in guards)

    def bank_check(self, acc, info: ArrayInfo, scope: dict, loops: list, lp: Loop, ctx: Ctx, ports: dict,
                   outer: tuple = ()) -> None:
        rep = self.report
        fctx = ctx
        banks_per_dim = []
        for d, (kind, factor) in sorted(info.parts.items()):
            if kind == "cyclic" and factor and factor & (factor - 1):
                rep.error("bank-static", acc.file, acc.line,
                          f"{acc.array}: cyclic factor {factor} is not a power of two: Vitis computes each access's "
                          f"bank and address with a modulo and a division by {factor} (give the banks a dimension "
                          "of their own, partitioned completely)")
                return
            dims = range(len(acc.indices)) if d == 0 else [d - 1]
            for i in dims:
                if i >= len(acc.indices):
                    continue
                v = self.eval(acc.indices[i], fctx, scope=scope)
                if v is None:
                    rep.warn("bank-static", acc.file, acc.line, f"index {' '.join(acc.indices[i])} of {acc.array} "
                             "could not be evaluated")
                    continue
                bad = [s for s, c in v.terms.items() if not s.static and (kind != "cyclic" or not factor or c % factor)]
                if bad:
                    what = "partitioned completely" if kind == "complete" else f"{kind} factor {factor}"
                    rep.error("bank-static", acc.file, acc.line,
                              f"{acc.array}[...] dimension {i + 1} ({what}): index {' '.join(acc.indices[i])} is not a "
                              f"compile-time function of unrolled counters (runtime: "
                              f"{', '.join(s.name.split(':')[-1] for s in bad)}) in the pipelined loop at {lp.file}:{lp.line}")
                    return
                banks_per_dim.append((i, kind, factor, v))
        if not banks_per_dim:
            return
        if all(kind == "complete" for _, kind, _, _ in banks_per_dim) and \
                len({i for i, *_ in banks_per_dim}) == len(info.dims):
            return                                            # registers: no port limit
        self.count_ports(acc, info, banks_per_dim, loops, fctx, ports, scope, outer)

    def count_ports(self, acc, info, banks_per_dim, loops, ctx, ports, scope, outer=()) -> None:
        static_guards = self.instance_guards(acc.guards, ctx, scope)
        syms = {s for *_, v in banks_per_dim for s in v.terms if s.static}
        for g in static_guards:
            syms |= {s for s in self.eval(list(g.tokens), ctx, scope=scope).terms if s.static}
        ranges = []
        for lp in loops:
            name = f"{lp.file}:{lp.line}:{lp.var}"
            if not any(s.name == name for s in syms):
                continue
            lo, hi = self.int_of(lp.start, ctx), self.int_of(lp.bound, ctx)
            if lo is None or hi is None:
                return
            ranges.append((name, range(lo, hi)))
        total = 1
        for _, r in ranges:
            total *= max(1, len(r))
        if total > MAX_INSTANCES:
            return
        for combo in itertools.product(*[r for _, r in ranges]) if ranges else [()]:
            env = dict(zip([n for n, _ in ranges], combo))
            bank = []
            for _, kind, factor, v in banks_per_dim:
                x = v.const + sum(c * env.get(s.name, 0) for s, c in v.terms.items() if s.static)
                bank.append(x % factor if kind == "cyclic" and factor else x)
            if static_guards and not self.taken(static_guards, ctx, _bind(scope, env)):
                continue
            key = (info.root, tuple(bank))
            ports.setdefault(key, []).append(outer + tuple(acc.guards))

    # ---- DATAFLOW regions -----------------------------------------------------------------------------
    def dataflow(self, ctx: Ctx) -> None:
        fn, rep = ctx.fn, self.report
        tasks = [c for c in fn.calls if c.loop is None and not c.obj and c.callee in self.u.functions]
        for kind, line in fn.statements:
            if kind not in ("DECL_STMT", "CALL_EXPR", "UNEXPOSED_EXPR", "NULL_STMT"):
                rep.error("dataflow-canonical", fn.file, line, f"DATAFLOW region {fn.name}: a {kind.lower()} statement "
                          "(only task calls and channel declarations)")
        for c in fn.calls:
            if c.callee in self.u.functions and (c.cond > 0 or c.loop is not None):
                rep.error("dataflow-canonical", c.file, c.line, f"DATAFLOW region {fn.name}: conditional task call "
                          f"{c.callee} (Vitis does not apply DATAFLOW)")
        channels = list(fn.streams) + [p.name for p in fn.params if p.dims or p.stream or p.pointer]
        group = list(range(len(tasks)))          # chains: tasks joined by a stream
        for ch in fn.streams:
            users = [i for i, t in enumerate(tasks) if any(len(a) == 1 and a[0] == ch for a in t.args)]
            for u in users[1:]:
                old, new = group[u], group[users[0]]
                group = [new if g == old else g for g in group]
        rep.chains[fn.name] = [[t.callee for i, t in enumerate(tasks) if group[i] == g] for g in dict.fromkeys(group)]
        for ch in channels:
            users = [i for i, t in enumerate(tasks) if any(len(a) == 1 and a[0] == ch for a in t.args)]
            if ch in fn.streams:
                if len(users) != 2:
                    rep.error("dataflow-canonical", fn.file, fn.streams[ch], f"DATAFLOW region {fn.name}: channel {ch} "
                              f"is used by {len(users)} tasks (one producer and one consumer)")
                elif users[1] - users[0] != 1:
                    rep.error("dataflow-canonical", fn.file, fn.streams[ch], f"DATAFLOW region {fn.name}: channel {ch} "
                              f"bypasses {users[1] - users[0] - 1} task(s)")
            elif len(users) > 1:
                rep.error("dataflow-canonical", fn.file, fn.line, f"DATAFLOW region {fn.name}: argument {ch} is passed to "
                          f"{len(users)} tasks (one task per array)")
        for i, t in enumerate(tasks):
            self.mark_task(t.callee, fn.name, t.callee, set())

    def mark_task(self, fname: str, region: str, task: str, seen: set) -> None:
        if fname in seen:
            return
        seen.add(fname)
        for f in self.u.functions.get(fname, []):
            for lp in f.loops:
                key = (lp.file, lp.line)
                rec = self.report.loops.get(key)
                if rec is None:
                    rec = LoopRecord(f.name, lp.file, lp.line, lp.counter_line, None, None, None)
                    self.report.loops[key] = rec
                rec.region, rec.task = region, task
            for c in f.calls:
                if c.callee in self.u.functions and not c.obj:
                    self.mark_task(c.callee, region, task, seen)

    # ---- engines ---------------------------------------------------------------------------------------
    def engines(self) -> None:
        rep = self.report
        for fns in self.u.functions.values():
            for fn in fns:
                if not fn.engine:
                    continue
                sites = [(f, c) for fs in self.u.functions.values() for f in fs for c in f.calls
                         if c.callee == fn.name and not c.obj]
                rep.engines[fn.engine] = len(sites)
                allowed = self.engine_instances.get(fn.engine, 1)
                limited = any(p.kind == "ALLOCATION" and fn.name in " ".join(sum(p.args.values(), []))
                              for f, _ in sites for p in f.pragmas)
                if len(sites) > allowed and not limited:
                    f, c = sites[allowed]
                    rep.error("engine-instances", c.file, c.line,
                              f"engine {fn.engine} ({fn.name}) has {len(sites)} call sites; the model counts {allowed} "
                              "instance(s) and no ALLOCATION pragma limits it")


def _within(loop: Loop | None, outer: Loop | None, strict: bool = False) -> bool:
    lp = loop
    if strict and lp is not None:
        lp = lp.parent if lp is outer else lp
        if loop is outer:
            return False
    while lp is not None:
        if lp is outer:
            return True
        lp = lp.parent
    return outer is None


def _inside_pipeline(lp: Loop, include_self: bool = False) -> bool:
    cur = lp if include_self else lp.parent
    while cur is not None:
        if cur.pipelined:
            return True
        cur = cur.parent
    return False


def _loops_between(loop: Loop | None, outer: Loop | None) -> list:
    out, lp = [], loop
    while lp is not None and lp is not outer:
        out.append(lp)
        lp = lp.parent
    return out


def _bind(scope: dict, env: dict) -> dict:
    """The scope with the unrolled counters of `env` (by symbol name) set to their values."""
    out = dict(scope)
    for var, v in scope.items():
        for s in v.terms:
            if s.name in env:
                out[var] = const(env[s.name])
    return out


def _concurrent(users: list) -> int:
    """Accesses to one bank that can happen in the same iteration: accesses in the two branches of one
    condition exclude each other (the scheduler shares the port between them)."""
    sites = {}
    for guards in users:
        for g in guards:
            sites.setdefault(g.site, set()).add(g.taken)
    split = [site for site, taken in sites.items() if len(taken) == 2][:8]
    best = 0
    for choice in itertools.product((True, False), repeat=len(split)):
        pick = dict(zip(split, choice))
        n = sum(1 for guards in users if all(pick.get(g.site, g.taken) == g.taken for g in guards))
        best = max(best, n)
    return best
