namespace Airlock.Store.Sql;

/// <summary>What every table gateway needs: the dialect and the clock.</summary>
internal sealed record SqlContext(SqlDialect Dialect, TimeProvider Time);
