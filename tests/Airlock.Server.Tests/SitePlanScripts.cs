namespace Airlock.Server.Tests;

/// <summary>Plan scripts for the getting-started site stack that propose many resources (one awk process, not one per file).</summary>
internal static class SitePlanScripts
{
    /// <summary>
    /// A plan.sh proposing <paramref name="count"/> creates, local_file.page_0000_with_a_long_name_so_rows_are_wide
    /// onwards (~85 characters per table row in a pull-request comment).
    /// </summary>
    public static string Creates(int count) => """
        #!/bin/sh
        set -e
        echo "proposal" > "$AIRLOCK_PLAN_FILE"
        awk 'BEGIN {
          printf "{\"format_version\":\"1.2\",\"resource_changes\":["
          for (i = 0; i < COUNT; i++)
            printf "%s{\"address\":\"local_file.page_%04d_with_a_long_name_so_rows_are_wide\",\"mode\":\"managed\",\"type\":\"local_file\",\"name\":\"p%d\",\"provider_name\":\"getting-started/site\",\"change\":{\"actions\":[\"create\"],\"before\":null,\"after\":{},\"after_unknown\":{}}}", (i ? "," : ""), i, i
          print "]}"
        }' > "$AIRLOCK_PLAN_JSON"
        """.Replace("COUNT", count.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
}
