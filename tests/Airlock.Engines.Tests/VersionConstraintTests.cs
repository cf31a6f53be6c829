namespace Airlock.Engines.Tests;

public sealed class VersionConstraintTests
{
    [Theory]
    [InlineData("~> 1.8.0", "1.8.5", true)]
    [InlineData("~> 1.8.0", "1.9.0", false)]
    [InlineData("~> 1.8", "1.9.0", true)]
    [InlineData("~> 1.8", "2.0.0", false)]
    [InlineData(">= 1.6.0, < 2.0.0", "1.10.2", true)]
    [InlineData(">= 1.6.0, < 2.0.0", "1.5.7", false)]
    [InlineData("= 1.7.3", "1.7.3", true)]
    [InlineData("1.7.3", "v1.7.4", false)]
    [InlineData(">= 3.100", "v3.140.0", true)]
    [InlineData("!= 1.8.0", "1.8.0-beta1", false)]
    public void Terraform_style_constraints_are_checked(string constraint, string version, bool satisfied)
    {
        Assert.Equal(satisfied, VersionConstraint.Parse(constraint).IsSatisfiedBy(version));
    }

    [Fact]
    public void A_malformed_constraint_is_a_configuration_error()
    {
        var error = Assert.Throws<EngineConfigurationException>(() => VersionConstraint.Parse(">= one.two"));

        Assert.Equal("required version \">= one.two\": \">= one.two\" is not a version constraint", error.Message);
    }
}
