using System.Text.Json;

using Airlock.Engines.Json;

namespace Airlock.Engines.Tofu;

/// <summary>
/// The serial and lineage of the state `tofu state pull` prints, read as the bytes arrive: a state
/// can be hundreds of megabytes (and holds secrets), and both fields come before its resources, so
/// the reading stops there; whatever follows is never held.
/// </summary>
public static class StateHeader
{
    /// <summary>(serial, lineage); both null when the output is empty (no state yet).</summary>
    /// <exception cref="JsonException">Not JSON, or not a state object.</exception>
    public static async Task<(long? Serial, string? Lineage)> ReadAsync(Stream stdout, CancellationToken cancellationToken)
    {
        var scan = new Scan();
        return await JsonStreamScanner.ScanAsync(stdout, scan, cancellationToken) ? (scan.Serial, scan.Lineage) : (null, null);
    }

    /// <summary>The top-level serial and lineage, token by token; stops once it has both.</summary>
    private sealed class Scan : IJsonTokenVisitor
    {
        private bool _started;
        private string? _property;

        public long? Serial { get; private set; }

        public string? Lineage { get; private set; }

        /// <inheritdoc />
        public bool Take(ref Utf8JsonReader reader)
        {
            if (!_started)
            {
                _started = true;
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw new JsonException($"expected a state object, found {reader.TokenType}");
                }

                return true;
            }

            if (reader.CurrentDepth != 1)
            {
                return true; // inside outputs or resources
            }

            if (reader.TokenType == JsonTokenType.PropertyName)
            {
                _property = reader.GetString();
                return true;
            }

            if (_property == "serial")
            {
                Serial = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var serial)
                    ? serial
                    : throw new JsonException("serial is not a whole number");
            }
            else if (_property == "lineage" && reader.TokenType == JsonTokenType.String)
            {
                Lineage = reader.GetString();
            }

            _property = null;
            return Serial is null || Lineage is null; // both read: the rest of the state is never read
        }
    }
}
