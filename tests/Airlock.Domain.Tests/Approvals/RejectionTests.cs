using Airlock.Domain.Approvals;

namespace Airlock.Domain.Tests.Approvals;

public sealed class RejectionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void No_rejection_means_nothing_stands()
    {
        Assert.Null(Rejection.Standing([]));
    }

    [Fact]
    public void The_earliest_rejection_stands_and_reads_as_one_line()
    {
        var later = new Rejection("bob@example.com", "second thoughts", T0.AddMinutes(5));
        var first = new Rejection("carol@example.com", "drops the wrong bucket", T0);

        var standing = Rejection.Standing([later, first]);

        Assert.Equal(first, standing);
        Assert.Equal("rejected by carol@example.com: drops the wrong bucket", standing!.Statement);
    }
}
