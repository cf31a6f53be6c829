using Airlock.Store.Postgres;
using Airlock.Store.Sql;

using Npgsql;

namespace Airlock.Store.Tests;

/// <summary>AIRLOCK_DATABASE_URL as the libpq URI platforms hand out, converted for Npgsql.</summary>
public sealed class PostgresUrlTests
{
    [Fact]
    public void A_full_uri_becomes_the_equivalent_connection_string_with_percent_decoding()
    {
        var converted = new NpgsqlConnectionStringBuilder(PostgresUrl.ToConnectionString(
            "postgresql://air%40lock:p%40ss%3Aw%2Frd@db.internal:6543/air%20lock?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=7&application_name=airlock-prod"));

        Assert.Equal("db.internal", converted.Host);
        Assert.Equal(6543, converted.Port);
        Assert.Equal("air@lock", converted.Username);
        Assert.Equal("p@ss:w/rd", converted.Password);
        Assert.Equal("air lock", converted.Database);
        Assert.Equal(SslMode.VerifyFull, converted.SslMode);
        Assert.Equal("/etc/ca.pem", converted.RootCertificate);
        Assert.Equal(7, converted.Timeout);
        Assert.Equal("airlock-prod", converted.ApplicationName);
    }

    [Fact]
    public void Short_forms_ipv6_hosts_and_several_hosts_are_understood()
    {
        var bare = new NpgsqlConnectionStringBuilder(PostgresUrl.ToConnectionString("postgres://localhost"));
        Assert.Equal(("localhost", 5432, null, null), (bare.Host, bare.Port, bare.Username, bare.Database));

        var ipv6 = new NpgsqlConnectionStringBuilder(PostgresUrl.ToConnectionString("postgres://app@[::1]:5433/airlock"));
        Assert.Equal(("::1", 5433, "app", "airlock"), (ipv6.Host, ipv6.Port, ipv6.Username, ipv6.Database));

        var several = new NpgsqlConnectionStringBuilder(PostgresUrl.ToConnectionString("postgres://app@db-a:5432,db-b:5433/airlock?target_session_attrs=read-write"));
        Assert.Equal("db-a:5432,db-b:5433", several.Host);
        Assert.Equal("read-write", several.TargetSessionAttributes);

        // A key/value connection string passes through untouched.
        Assert.Equal("Host=h;Username=u", PostgresUrl.ToConnectionString("Host=h;Username=u"));
    }

    [Theory]
    [InlineData("postgres://u:secret@h:99999/db", "port that is not a number from 1 to 65535")]
    [InlineData("postgres://u:secret@h/db?sslmode=sometimes", "sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, not 'sometimes'")]
    [InlineData("postgres://u:secret@h/db?gssencmode=prefer", "the parameter 'gssencmode', which has no Npgsql equivalent")]
    [InlineData("postgres://u:secret@[::1/db", "IPv6 host without its closing ']'")]
    [InlineData("postgres://u:secret@h/db?connect_timeout=soon", "parameter 'connect_timeout' has a value Npgsql does not accept")]
    public void A_bad_uri_is_refused_in_one_line_that_never_repeats_the_password(string url, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => PostgresUrl.ToConnectionString(url));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_store_opens_a_real_postgresql_database_given_as_a_uri()
    {
        var database = new NpgsqlConnectionStringBuilder(await PostgresServer.CreateDatabaseAsync());
        var url = $"postgres://{Uri.EscapeDataString(database.Username!)}:{Uri.EscapeDataString(database.Password ?? string.Empty)}@{database.Host}:{database.Port}/{Uri.EscapeDataString(database.Database!)}?sslmode=disable";

        await using var store = await PostgresBackend.OpenAsAsync(url);

        Assert.Equal(Migrations.LatestVersion, store.SchemaVersion);
        var freeze = await store.Freezes.StartAsync("prod", "incident 9", "alice", DateTimeOffset.UtcNow, default);
        Assert.Equal("prod", freeze.Environment);
    }
}
