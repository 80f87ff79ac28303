import Logging
import Workflows

// Loading the workflows again while the daemon runs, for a schedule that names a workflow the
// daemon has not loaded (SIGHUP reloads everything in Daemon.run's HangupService).

extension Daemon {
    /// Loads the workflow files again because a schedule being added names a workflow not loaded.
    /// - Parameters:
    ///   - loaded: the names of the workflows runs use now.
    ///   - swap: whether runs should use the new workflows from now on (false: only look).
    ///   - adopt: hands a catalog to the runs.
    /// - Returns: the names found, or `nil` (with a warning) when the files do not load or a loaded
    ///   workflow is gone from the directory, which only SIGHUP may decide about.
    func reloadForSchedule(
        loaded: Set<String>, swap: Bool, adopt: @Sendable (WorkflowCatalog) -> Void
    ) -> Set<String>? {
        let catalog: WorkflowCatalog
        do {
            catalog = try WorkflowCatalog.load(directory: configuration.schedulesDirectory, nodeKinds: nodes.kinds)
        } catch {
            logger.warning(
                "a schedule names a workflow not loaded, and the workflows do not load",
                metadata: ["error": .string("\(error)")])
            return nil
        }
        let found = Set(catalog.workflows.keys)
        let gone = loaded.subtracting(found)
        guard gone.isEmpty else {
            logger.warning(
                "a schedule names a workflow not loaded, but loaded workflows are gone from the directory; send SIGHUP to check the schedules against it",
                metadata: ["gone": .string(gone.sorted().joined(separator: ","))])
            return nil
        }
        if swap {
            adopt(catalog)
            logger.info(
                "loaded the workflows again for a schedule that names a new one",
                metadata: ["workflows": .stringConvertible(found.count)])
        }
        return found
    }
}
