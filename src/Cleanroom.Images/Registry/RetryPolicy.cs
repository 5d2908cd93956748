using Microsoft.Extensions.Logging;

namespace Cleanroom.Images.Registry;

/// <summary>
/// Runs an operation again after a <see cref="TransientRegistryFailure"/>, waiting longer each time (exponential
/// backoff with jitter, or the registry's <c>Retry-After</c> when that is longer).
/// </summary>
internal sealed class RetryPolicy(int maxAttempts, TimeSpan initialBackoff, ILogger logger)
{
    /// <summary>Backoff never grows past this: a registry that is down for longer gets reported, not waited for.</summary>
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>A Retry-After longer than this is a registry asking us to go away; we report it instead of sleeping.</summary>
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    public async Task<T> RunAsync<T>(string what, Func<int, Task<T>> attempt, CancellationToken cancellationToken)
    {
        for (var number = 1; ; number++)
        {
            try
            {
                return await attempt(number);
            }
            catch (TransientRegistryFailure ex) when (number < maxAttempts && (ex.RetryAfter is null || ex.RetryAfter <= MaxRetryAfter))
            {
                var delay = DelayBefore(number + 1, ex.RetryAfter);
                logger.LogWarning("{What}: {Reason}; retrying in {Delay} ms (attempt {Next} of {Max})", what, ex.Message, (int)delay.TotalMilliseconds, number + 1, maxAttempts);
                await Task.Delay(delay, cancellationToken);
            }
            catch (TransientRegistryFailure ex)
            {
                var why = ex.RetryAfter > MaxRetryAfter
                    ? $"{ex.Message}; the registry asks to wait {(int)ex.RetryAfter.Value.TotalSeconds} s, try again later"
                    : $"{ex.Message} (gave up after {number} attempt{(number == 1 ? "" : "s")})";
                throw new RegistryException(RegistryErrorKind.Unavailable, $"{what}: {why}", ex);
            }
        }
    }

    private TimeSpan DelayBefore(int attempt, TimeSpan? retryAfter)
    {
        var backoff = initialBackoff * Math.Pow(2, attempt - 2);
        if (backoff > MaxBackoff)
        {
            backoff = MaxBackoff;
        }

        // Jitter keeps several downloads that failed together from hammering the registry together again.
        backoff += backoff * (Random.Shared.NextDouble() * 0.2);
        return retryAfter is { } asked && asked > backoff ? asked : backoff;
    }
}
