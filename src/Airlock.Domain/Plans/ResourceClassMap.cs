using System.Collections.Frozen;

namespace Airlock.Domain.Plans;

/// <summary>
/// Resource type → resource class (database, persistent_volume, kms_key, dns_zone...). Classes
/// decide which replacements are stateful. The workspace config (airlock.yaml `resource_classes`)
/// supplies the real map; <see cref="Default"/> mirrors the example workspace.
/// </summary>
public sealed class ResourceClassMap
{
    private readonly FrozenDictionary<string, string> _classByType;

    /// <summary>Builds a map from class → types, as airlock.yaml writes it.</summary>
    public ResourceClassMap(IEnumerable<KeyValuePair<string, IEnumerable<string>>> typesByClass)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (resourceClass, types) in typesByClass)
        {
            foreach (var type in types)
            {
                map[type] = resourceClass;
            }
        }

        _classByType = map.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The classes of the example workspace (../shared/examples/airlock.yaml).</summary>
    public static ResourceClassMap Default { get; } = new(new Dictionary<string, IEnumerable<string>>
    {
        ["database"] = ["aws_db_instance", "aws_rds_cluster", "google_sql_database_instance", "azurerm_mssql_database"],
        ["persistent_volume"] = ["aws_ebs_volume", "google_compute_disk"],
        ["kms_key"] = ["aws_kms_key", "google_kms_crypto_key"],
        ["dns_zone"] = ["aws_route53_zone", "google_dns_managed_zone"],
    });

    /// <summary>The class of <paramref name="type"/> (Terraform type name), or null.</summary>
    public string? ClassOf(string type) => _classByType.GetValueOrDefault(type);
}
