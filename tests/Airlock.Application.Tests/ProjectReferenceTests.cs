namespace Airlock.Application.Tests;

/// <summary>Keeps the layering honest: the application layer may use adapters, the domain may not use it.</summary>
public sealed class ProjectReferenceTests
{
    [Fact]
    public void Domain_does_not_reference_the_application_layer()
    {
        var domain = typeof(Airlock.Domain.Runs.RunLifecycle).Assembly;
        Assert.DoesNotContain(domain.GetReferencedAssemblies(), a => a.Name == "Airlock.Application");
    }
}
