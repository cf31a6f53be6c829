using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

using Airlock.Domain.Serialization;

namespace Airlock.Domain.Tests.Serialization;

/// <summary>Digests are hashed as the canonical form is written; they must stay the hash of exactly those bytes.</summary>
public sealed class CanonicalJsonDigestTests
{
    [Fact]
    public void A_digest_is_the_sha256_of_the_canonical_bytes_for_small_and_large_values()
    {
        // The large one crosses the hashing writer's 16 KB buffer many times, and holds a 40 KB string (one write larger than it).
        var small = JsonNode.Parse("""{"b":[1,2.5,"x\u00e9"],"a":{"z":null,"y":true}}""")!;
        var large = new JsonObject
        {
            ["items"] = new JsonArray([.. Enumerable.Range(0, 5000).Select(i => (JsonNode)new JsonObject { ["n"] = i, ["s"] = $"item {i}" })]),
            ["blob"] = new string('q', 40_000),
        };

        foreach (var node in new[] { small, large, null })
        {
            var expected = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(CanonicalJson.ToUtf8Bytes(node)));
            Assert.Equal(expected, CanonicalJson.Sha256Digest(node));
        }

        using var document = JsonDocument.Parse(large.ToJsonString());
        Assert.Equal(CanonicalJson.Sha256Digest(large), CanonicalJson.Sha256Digest(document.RootElement));
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData("{\"a\":{\"y\":true,\"z\":null},\"b\":[1,2.5,\"xé\"]}"u8)), CanonicalJson.Sha256Digest(small));
    }
}
