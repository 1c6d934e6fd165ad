// Filled by the hub issue.
