using System.Collections.Immutable;
using System.Text;

namespace Cleanroom.Images.Registry;

/// <summary>
/// One challenge from a <c>WWW-Authenticate</c> header (RFC 7235 §4.1): a scheme and its parameters, e.g.
/// <c>Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"</c>.
/// Parameter names are case-insensitive; scheme comparisons should be too.
/// </summary>
internal sealed record AuthenticationChallenge(string Scheme, ImmutableDictionary<string, string> Parameters, string? Token68 = null)
{
    /// <summary>A header longer than this is not a real challenge; refuse to scan it.</summary>
    private const int MaxHeaderLength = 16 * 1024;

    public bool IsScheme(string scheme) => string.Equals(Scheme, scheme, StringComparison.OrdinalIgnoreCase);

    public string? this[string name] => Parameters.TryGetValue(name, out var value) ? value : null;

    /// <summary>
    /// Parses every challenge in the given header values (a response may send several headers, and one header may
    /// hold several comma-separated challenges). Malformed tails are dropped rather than thrown: the caller decides
    /// what a missing challenge means.
    /// </summary>
    public static IReadOnlyList<AuthenticationChallenge> Parse(IEnumerable<string> headerValues)
    {
        var challenges = new List<AuthenticationChallenge>();
        foreach (var value in headerValues)
        {
            if (value.Length <= MaxHeaderLength)
            {
                new Scanner(value).ReadChallenges(challenges);
            }
        }

        return challenges;
    }

    public static IReadOnlyList<AuthenticationChallenge> Parse(string headerValue) => Parse([headerValue]);

    /// <summary>A cursor over one header value; each method consumes what it recognises.</summary>
    private ref struct Scanner(string text)
    {
        private readonly string _text = text;
        private int _position;

        public void ReadChallenges(List<AuthenticationChallenge> into)
        {
            SkipSeparators();
            while (_position < _text.Length)
            {
                var scheme = ReadToken();
                if (scheme.Length == 0)
                {
                    return;
                }

                var parameters = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.OrdinalIgnoreCase);
                string? token68 = null;
                SkipSpaces();
                if (TryReadToken68(out var t68))
                {
                    token68 = t68;
                }
                else
                {
                    while (TryReadParameter(out var name, out var value))
                    {
                        // RFC 7235: a parameter name occurs once per challenge; keep the first like most clients.
                        parameters.TryAdd(name, value);
                        SkipSpaces();
                        if (!Peek(','))
                        {
                            break;
                        }

                        // A comma either separates parameters or ends this challenge: only a following
                        // `name=` says it is another parameter.
                        var mark = _position;
                        _position++;
                        SkipSeparators();
                        if (!LooksLikeParameter())
                        {
                            _position = mark;
                            break;
                        }
                    }
                }

                into.Add(new AuthenticationChallenge(scheme, parameters.ToImmutable(), token68));
                SkipSpaces();
                if (_position < _text.Length && !Peek(','))
                {
                    return; // garbage where a separator should be: stop rather than guess
                }

                SkipSeparators();
            }
        }

        private bool TryReadParameter(out string name, out string value)
        {
            name = value = "";
            var mark = _position;
            name = ReadToken();
            SkipSpaces();
            if (name.Length == 0 || !Peek('='))
            {
                _position = mark;
                return false;
            }

            _position++;
            SkipSpaces();
            if (Peek('"'))
            {
                if (!TryReadQuoted(out value))
                {
                    _position = mark;
                    return false;
                }
            }
            else
            {
                value = ReadToken();
            }

            return true;
        }

        /// <summary>token68: <c>[A-Za-z0-9-._~+/]+ =*</c>, alone up to the next comma or the end.</summary>
        private bool TryReadToken68(out string token)
        {
            token = "";
            var start = _position;
            var end = start;
            while (end < _text.Length && (char.IsAsciiLetterOrDigit(_text[end]) || _text[end] is '-' or '.' or '_' or '~' or '+' or '/'))
            {
                end++;
            }

            if (end == start)
            {
                return false;
            }

            while (end < _text.Length && _text[end] == '=')
            {
                end++;
            }

            var next = end;
            while (next < _text.Length && _text[next] is ' ' or '\t')
            {
                next++;
            }

            // `realm=x` has a value after its '=', so it is a parameter; a token68 is followed by nothing or a comma.
            if (next < _text.Length && _text[next] != ',')
            {
                return false;
            }

            token = _text[start..end];
            _position = end;
            return true;
        }

        private bool TryReadQuoted(out string value)
        {
            var builder = new StringBuilder();
            _position++; // opening quote
            while (_position < _text.Length)
            {
                var c = _text[_position++];
                if (c == '"')
                {
                    value = builder.ToString();
                    return true;
                }

                if (c == '\\' && _position < _text.Length)
                {
                    c = _text[_position++];
                }

                builder.Append(c);
            }

            value = "";
            return false; // unterminated
        }

        private readonly bool LooksLikeParameter() => LooksLikeParameterAt(_position);

        private readonly bool LooksLikeParameterAt(int position)
        {
            var i = position;
            while (i < _text.Length && _text[i] is ' ' or '\t')
            {
                i++;
            }

            var start = i;
            while (i < _text.Length && IsTokenChar(_text[i]))
            {
                i++;
            }

            if (i == start)
            {
                return false;
            }

            while (i < _text.Length && _text[i] is ' ' or '\t')
            {
                i++;
            }

            return i < _text.Length && _text[i] == '=';
        }

        private string ReadToken()
        {
            var start = _position;
            while (_position < _text.Length && IsTokenChar(_text[_position]))
            {
                _position++;
            }

            return _text[start.._position];
        }

        private readonly bool Peek(char c) => _position < _text.Length && _text[_position] == c;

        private void SkipSpaces()
        {
            while (_position < _text.Length && _text[_position] is ' ' or '\t')
            {
                _position++;
            }
        }

        private void SkipSeparators()
        {
            while (_position < _text.Length && _text[_position] is ' ' or '\t' or ',')
            {
                _position++;
            }
        }

        /// <summary>RFC 7230 tchar.</summary>
        private static bool IsTokenChar(char c) =>
            char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';
    }
}
