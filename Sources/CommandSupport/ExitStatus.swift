/// Exit statuses of `couplet` commands beyond 0 (done) and 1 (the command failed).
public enum ExitStatus {
    /// A check that ran to the end found problems for a person (`couplet verify`: differences remain).
    public static let problemsFound: Int32 = 2
}
