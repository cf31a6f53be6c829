using System.Security.Claims;

using Airlock.Server.Auth;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Airlock.Server.Api;

/// <summary>Who the presented token acts as.</summary>
public sealed record IdentityView(string Actor, IReadOnlyList<string> Teams, string TokenId);

internal static class IdentityEndpoints
{
    public static void MapIdentity(this IEndpointRouteBuilder api)
    {
        api.MapGet("/me", (ClaimsPrincipal user) => TypedResults.Ok(new IdentityView(user.Actor(), user.Teams(), user.FindFirstValue(TokenAuthentication.TokenIdClaim)!)))
            .WithName("GetIdentity").WithSummary("The identity the token acts as").WithTags("identity");
    }
}
