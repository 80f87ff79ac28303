/// Graph questions about a workflow's nodes.
enum WorkflowGraph {
    /// Where parallel branches join: the node every branch can reach that is nearest to all of them
    /// (the smallest of the largest distances, ties by the order of the file). `nil` when the branches
    /// never meet: each then runs to its end.
    static func join(of branches: [String], in workflow: Workflow) -> String? {
        let distances = branches.map { distancesFrom($0, in: workflow) }
        var best: (node: String, distance: Int)?
        for id in workflow.nodeOrder where !branches.contains(id) {
            var worst = 0
            var reachedByAll = true
            for map in distances {
                guard let d = map[id] else {
                    reachedByAll = false
                    break
                }
                worst = max(worst, d)
            }
            if reachedByAll, best.map({ worst < $0.distance }) ?? true { best = (id, worst) }
        }
        return best?.node
    }

    private static func distancesFrom(_ start: String, in workflow: Workflow) -> [String: Int] {
        var distances = [start: 0]
        var queue = [start]
        var index = 0
        while index < queue.count {
            let id = queue[index]
            index += 1
            let here = distances[id] ?? 0  // every queued node has its distance
            for next in workflow.nodes[id]?.successors ?? [] where distances[next] == nil {
                distances[next] = here + 1
                queue.append(next)
            }
        }
        return distances
    }
}
