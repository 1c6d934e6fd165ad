// Filled by the replica issue.
