using System.Text.Json;

using Airlock.Engines.Tofu;

namespace Airlock.Engines.Inputs;

/// <summary>Upstream inputs as the text each tool receives: strings raw, any other JSON value as its JSON text.</summary>
public static class EngineInputs
{
    /// <summary>Name → text for every input of <paramref name="inputsJson"/> (a JSON object), in its order.</summary>
    /// <exception cref="EngineConfigurationException">The inputs are not a JSON object.</exception>
    public static IReadOnlyList<KeyValuePair<string, string>> AsText(string inputsJson)
    {
        var root = TofuEngine.ParseObject(inputsJson, "inputs");
        return [.. root.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, Text(p.Value)))];
    }

    /// <summary>
    /// The text of one value: a string as itself, anything else as compact JSON, which Terraform reads
    /// as HCL for complex variable types and Pulumi programs read with requireObject.
    /// </summary>
    public static string Text(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
}
