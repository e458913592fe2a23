/**
 * Role-inheritance graph: cycle detection (with the cycle's path) and the transitive closure with
 * the chain that brings each inherited role in. Iterative (explicit stacks), so a deep or hostile
 * document cannot overflow the call stack.
 */

/** Adjacency: for each role index, the indexes it inherits from (sorted by role id, deduplicated). */
export type RoleGraph = readonly (readonly number[])[]

/** A cycle found in the graph, as role indexes, first === last. */
export type Cycle = readonly number[]

/**
 * Finds cycles by iterative DFS (white/grey/black). Reports each back edge once, as the path from the
 * target of the back edge around to it again.
 */
export function findCycles(graph: RoleGraph): Cycle[] {
  const n = graph.length
  const state = new Uint8Array(n) // 0 white, 1 grey (on stack), 2 black
  const cycles: Cycle[] = []
  const path: number[] = []
  const next: number[] = []
  for (let root = 0; root < n; root++) {
    if (state[root] !== 0) continue
    path.push(root)
    next.push(0)
    state[root] = 1
    while (path.length > 0) {
      const top = path.length - 1
      const v = path[top] as number
      const edges = graph[v] as readonly number[]
      const i = next[top] as number
      if (i < edges.length) {
        next[top] = i + 1
        const w = edges[i] as number
        if (state[w] === 0) {
          state[w] = 1
          path.push(w)
          next.push(0)
        } else if (state[w] === 1) {
          const start = path.indexOf(w)
          cycles.push([...path.slice(start), w])
        }
      } else {
        state[v] = 2
        path.pop()
        next.pop()
      }
    }
  }
  return cycles
}

/**
 * For an acyclic graph: for each role r, a Map from every role q in r's closure (r included) to the
 * shortest chain `[r, …, q]` of role indexes (BFS over sorted edges, so the chain depends only on
 * the graph, never on declaration order). Also returns the longest inheritance depth.
 */
export function roleClosure(graph: RoleGraph): {
  chains: Map<number, readonly number[]>[]
  maxDepth: number
} {
  const chains: Map<number, readonly number[]>[] = []
  let maxDepth = 0
  for (let r = 0; r < graph.length; r++) {
    const m = new Map<number, readonly number[]>([[r, [r]]])
    const queue: number[] = [r]
    for (let qi = 0; qi < queue.length; qi++) {
      const v = queue[qi] as number
      const chain = m.get(v) as readonly number[]
      for (const w of graph[v] as readonly number[]) {
        if (m.has(w)) continue
        const c = [...chain, w]
        if (c.length - 1 > maxDepth) maxDepth = c.length - 1
        m.set(w, c)
        queue.push(w)
      }
    }
    chains.push(m)
  }
  return { chains, maxDepth }
}

/** Longest path length (in edges) from each node, for an acyclic graph; iterative. */
export function longestChain(graph: RoleGraph): number {
  const n = graph.length
  const depth = new Int32Array(n).fill(-1)
  let best = 0
  for (let root = 0; root < n; root++) {
    if (depth[root] !== -1) continue
    const stack: number[] = [root]
    while (stack.length > 0) {
      const v = stack[stack.length - 1] as number
      let pending = false
      for (const w of graph[v] as readonly number[]) {
        if (depth[w] === -1) {
          stack.push(w)
          pending = true
        }
      }
      if (pending) continue
      stack.pop()
      let d = 0
      for (const w of graph[v] as readonly number[]) d = Math.max(d, (depth[w] as number) + 1)
      depth[v] = d
      if (d > best) best = d
    }
  }
  return best
}

// --- Compiled roles (the decision point's view) ---------------------------------------------------

/** The roles of a policy, compiled: indexes, closures with their chains, tenant restrictions. */
export interface CompiledRoles {
  /** How many roles; index `count` is the virtual "any role" holder of `*` rules. */
  readonly count: number
  /** Role id → index. */
  readonly index: ReadonlyMap<string, number>
  /** tenants[r] = the tenants role r is restricted to, or undefined (every tenant). */
  readonly tenants: readonly (ReadonlySet<string> | undefined)[]
  /** holders[q] = the roles r whose closure contains q (r itself included). */
  readonly holders: readonly (readonly number[])[]
  /** chains[r].get(q) = the role ids from r up to q, for explanations. */
  readonly chains: readonly ReadonlyMap<number, readonly string[]>[]
  /**
   * The index of a role the subject may use in `tenant`, or undefined. An unknown name (or a
   * non-string) has no index, so its tenants lookup is undefined too; indexing a per-role array
   * or map with undefined finds nothing, so callers need no check.
   */
  usable(name: unknown, tenant: string): number | undefined
}

/** Compiles validated role definitions: indexes, inheritance closures (with chains), tenants. */
export function compileRoles(
  roles: readonly { id: string; inherits?: readonly string[]; tenants?: readonly string[] }[],
): CompiledRoles {
  const index = new Map<string, number>()
  roles.forEach((r, i) => {
    index.set(r.id, i)
  })
  const names = roles.map((r) => r.id)
  const tenants: (ReadonlySet<string> | undefined)[] = roles.map((r) =>
    r.tenants ? new Set(r.tenants) : undefined,
  )
  const graph = roles.map((r) => [...new Set(r.inherits ?? [])].sort().map((id) => index.get(id) as number))
  const { chains } = roleClosure(graph)
  const chainNames = chains.map(
    (m) => new Map([...m].map(([q, c]) => [q, Object.freeze(c.map((i) => names[i] as string))])),
  )
  const holders: number[][] = names.map(() => [])
  chains.forEach((m, r) => {
    for (const q of m.keys()) (holders[q] as number[]).push(r)
  })
  return {
    count: roles.length,
    index,
    tenants,
    holders,
    chains: chainNames,
    usable(name: unknown, tenant: string): number | undefined {
      const r = index.get(name as string)
      return tenants[r as number]?.has(tenant) === false ? undefined : r
    },
  }
}
