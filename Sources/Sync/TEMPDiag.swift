import Postgres
extension PostgresError {
    var columnName: String? { nil }
    var constraintName: String? { nil }
}
