namespace Cleanroom.Images;

/// <summary>
/// An image is larger than a configured limit allows. <see cref="Limit"/> names the option (for example
/// <c>MaxLayerBytes</c>); the message says which blob, its declared size and the limit.
/// </summary>
public sealed class ImageTooLargeException(string limit, string message) : Exception(message)
{
    public string Limit { get; } = limit;
}
