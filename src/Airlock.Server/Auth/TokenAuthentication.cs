using System.Security.Claims;
using System.Text.Encodings.Web;

using Airlock.Application.Tokens;

using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Airlock.Server.Auth;

/// <summary>
/// Authentication by API token: <c>Authorization: Bearer alk_…</c>, or the dashboard's HttpOnly cookie holding
/// the same token. The token decides who acts; nothing in a request body ever does.
/// </summary>
public static class TokenAuthentication
{
    /// <summary>The authentication scheme name.</summary>
    public const string Scheme = "AirlockToken";

    /// <summary>The dashboard's cookie, set when someone signs in with a token.</summary>
    public const string CookieName = "airlock_token";

    /// <summary>Claim types the server sets.</summary>
    public const string TeamClaim = "airlock:team";

    /// <summary>The token's public id.</summary>
    public const string TokenIdClaim = "airlock:token";

    /// <summary>Registers the scheme as the default and a fallback-free authorization setup.</summary>
    public static IServiceCollection AddTokenAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication(Scheme).AddScheme<AuthenticationSchemeOptions, TokenAuthenticationHandler>(Scheme, null);
        services.AddAuthorization();
        return services;
    }

    /// <summary>The acting identity of an authenticated request.</summary>
    public static string Actor(this ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.Identity?.IsAuthenticated == true && user.Identity.Name is { Length: > 0 } name
            ? name
            : throw new InvalidOperationException("no authenticated actor on this request");
    }

    /// <summary>The teams the token was issued for.</summary>
    public static IReadOnlyList<string> Teams(this ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.FindAll(TeamClaim).Select(c => c.Value).ToList();
    }
}

/// <summary>Turns a presented token into a principal (name = actor, one claim per team).</summary>
internal sealed class TokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    TokenService tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var secret = Presented();
        if (secret is null)
        {
            return AuthenticateResult.NoResult();
        }

        var token = await tokens.AuthenticateAsync(secret, Context.RequestAborted);
        if (token is null)
        {
            // Never log the presented value: it may be a real token typed into the wrong server.
            return AuthenticateResult.Fail("unknown, revoked or expired token");
        }

        var claims = new List<Claim> { new(ClaimTypes.Name, token.Actor), new(TokenAuthentication.TokenIdClaim, token.Id) };
        claims.AddRange(token.Teams.Select(t => new Claim(TokenAuthentication.TeamClaim, t)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, TokenAuthentication.Scheme));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, TokenAuthentication.Scheme));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        // Which of the two it is helps the caller (a typo'd or revoked token is not a missing header); the value is never echoed.
        var title = Presented() is null
            ? "authentication required: send Authorization: Bearer <token> (airlock token create)"
            : "the token presented is unknown, revoked or expired (airlock token list shows the live ones)";
        return Response.WriteAsJsonAsync(new { title, status = 401 }, Context.RequestAborted);
    }

    private string? Presented()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        return Request.Cookies.TryGetValue(TokenAuthentication.CookieName, out var cookie) && cookie.Length > 0 ? cookie : null;
    }
}
