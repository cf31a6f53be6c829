using System.Globalization;

using Npgsql;

namespace Airlock.Store.Postgres;

/// <summary>
/// Accepts the libpq connection URI most platforms hand out (<c>postgres://user:pass@host:5432/db?sslmode=require</c>)
/// where Npgsql only takes key/value connection strings. Hand-written because Npgsql has no URI parser; it covers the
/// URI grammar of the PostgreSQL manual (§34.1.1.2: percent-encoding, several hosts, [IPv6] hosts) and the libpq
/// parameters that have an Npgsql equivalent. Error messages never repeat the URL: it may hold a password.
/// </summary>
public static class PostgresUrl
{
    private static readonly Dictionary<string, string> Parameters = new(StringComparer.Ordinal)
    {
        ["host"] = "Host",
        ["hostaddr"] = "Host",
        ["port"] = "Port",
        ["user"] = "Username",
        ["password"] = "Password",
        ["dbname"] = "Database",
        ["sslmode"] = "SSL Mode",
        ["sslrootcert"] = "Root Certificate",
        ["sslcert"] = "SSL Certificate",
        ["sslkey"] = "SSL Key",
        ["sslpassword"] = "SSL Password",
        ["connect_timeout"] = "Timeout",
        ["application_name"] = "Application Name",
        ["passfile"] = "Passfile",
        ["options"] = "Options",
        ["target_session_attrs"] = "Target Session Attributes",
        ["keepalives_idle"] = "Tcp Keepalive Time",
        ["keepalives_interval"] = "Tcp Keepalive Interval",
        ["krbsrvname"] = "Kerberos Service Name",
    };

    private static readonly Dictionary<string, string> SslModes = new(StringComparer.Ordinal)
    {
        ["disable"] = "Disable",
        ["allow"] = "Allow",
        ["prefer"] = "Prefer",
        ["require"] = "Require",
        ["verify-ca"] = "VerifyCA",
        ["verify-full"] = "VerifyFull",
    };

    /// <summary>True when <paramref name="value"/> is a <c>postgres://</c> or <c>postgresql://</c> URI.</summary>
    public static bool IsUrl(string value) =>
        value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// <paramref name="value"/> as an Npgsql connection string: a URI is converted, anything else is returned as given.
    /// Throws <see cref="ArgumentException"/> (one line, without the URL) for a malformed URI or a parameter with no
    /// Npgsql equivalent.
    /// </summary>
    public static string ToConnectionString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!IsUrl(value))
        {
            return value;
        }

        var rest = value[(value.IndexOf("://", StringComparison.Ordinal) + 3)..];
        string? query = null;
        var questionMark = rest.IndexOf('?', StringComparison.Ordinal);
        if (questionMark >= 0)
        {
            query = rest[(questionMark + 1)..];
            rest = rest[..questionMark];
        }

        string? path = null;
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            path = rest[(slash + 1)..];
            rest = rest[..slash];
        }

        var builder = new NpgsqlConnectionStringBuilder();
        var at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            var user = rest[..at];
            rest = rest[(at + 1)..];
            var colon = user.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Decode(colon >= 0 ? user[..colon] : user);
            if (colon >= 0)
            {
                builder.Password = Decode(user[(colon + 1)..]);
            }
        }

        if (rest.Length > 0)
        {
            var (hosts, ports) = ParseHosts(rest);
            if (hosts.Count == 1)
            {
                builder.Host = hosts[0];
                if (ports[0] is { } port)
                {
                    builder.Port = port;
                }
            }
            else
            {
                // Npgsql's multi-host form: Host=a:5432,b:5433 (an IPv6 address keeps its brackets there).
                builder.Host = string.Join(',', hosts.Zip(ports, (host, port) =>
                    (host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host) + (port is null ? string.Empty : $":{port}")));
            }
        }

        if (!string.IsNullOrEmpty(path))
        {
            builder.Database = Decode(path);
        }

        foreach (var pair in (query ?? string.Empty).Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Decode(equals >= 0 ? pair[..equals] : pair);
            var parameterValue = equals >= 0 ? Decode(pair[(equals + 1)..]) : string.Empty;
            if (!Parameters.TryGetValue(name, out var keyword))
            {
                throw new ArgumentException($"the database URL has the parameter '{name}', which has no Npgsql equivalent; use a key/value connection string (Host=…;Username=…) instead");
            }

            if (name == "sslmode")
            {
                parameterValue = SslModes.TryGetValue(parameterValue, out var mode)
                    ? mode
                    : throw new ArgumentException($"the database URL's sslmode must be one of {string.Join(", ", SslModes.Keys)}, not '{parameterValue}'");
            }

            try
            {
                builder[keyword] = parameterValue;
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                throw new ArgumentException($"the database URL's parameter '{name}' has a value Npgsql does not accept");
            }
        }

        return builder.ConnectionString;
    }

    private static (List<string> Hosts, List<int?> Ports) ParseHosts(string hostSpec)
    {
        var hosts = new List<string>();
        var ports = new List<int?>();
        foreach (var part in hostSpec.Split(','))
        {
            string host;
            string? port = null;
            if (part.StartsWith('['))
            {
                // [IPv6]:port
                var close = part.IndexOf(']', StringComparison.Ordinal);
                if (close < 0)
                {
                    throw new ArgumentException("the database URL has an IPv6 host without its closing ']'");
                }

                host = part[1..close];
                var after = part[(close + 1)..];
                if (after.Length > 0)
                {
                    port = after.StartsWith(':') ? after[1..] : throw new ArgumentException("the database URL has text after an IPv6 host that is not ':port'");
                }
            }
            else
            {
                var colon = part.LastIndexOf(':');
                host = colon >= 0 ? part[..colon] : part;
                port = colon >= 0 ? part[(colon + 1)..] : null;
            }

            int? number = null;
            if (port is not null)
            {
                number = int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed is >= 1 and <= 65535
                    ? parsed
                    : throw new ArgumentException("the database URL has a port that is not a number from 1 to 65535");
            }

            hosts.Add(Decode(host));
            ports.Add(number);
        }

        return (hosts, ports);
    }

    private static string Decode(string text) => Uri.UnescapeDataString(text);
}
