using Airlock.Engines.Processes;

namespace Airlock.Engines.Tests;

public sealed class RedactorTests
{
    [Fact]
    public void A_private_key_inside_one_JSON_line_is_masked_through_its_end()
    {
        var line = """{"private_key_pem":"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg\n-----END EC PRIVATE KEY-----\n","id":"k1"}""";

        var redacted = Redactor.ShapesOnly.Redact(line);

        Assert.Equal("""{"private_key_pem":"[REDACTED]\n","id":"k1"}""", redacted);
    }

    [Fact]
    public void A_secret_containing_another_secret_is_masked_whole()
    {
        var redactor = new Redactor(["abcd", "xxabcdyy"]);

        Assert.Equal("token=[REDACTED] short=[REDACTED]", redactor.Redact("token=xxabcdyy short=abcd"));
    }

    [Fact]
    public void Values_too_short_to_be_secrets_are_not_masked_everywhere()
    {
        var redactor = new Redactor(["1", "eu", ""]);

        Assert.Equal("Plan: 1 to add, region eu-west-1", redactor.Redact("Plan: 1 to add, region eu-west-1"));
    }

    [Fact]
    public void Lines_between_begin_and_end_of_a_key_are_masked_across_calls()
    {
        var stream = Redactor.ShapesOnly.StartLines();

        Assert.Equal("key: [REDACTED]", stream.RedactLine("key: -----BEGIN OPENSSH PRIVATE KEY-----"));
        Assert.Equal("[REDACTED]", stream.RedactLine("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"));
        Assert.Equal("[REDACTED]", stream.RedactLine("-----END OPENSSH PRIVATE KEY-----"));
        Assert.Equal("aws_instance.web: Creating...", stream.RedactLine("aws_instance.web: Creating..."));
    }
}
