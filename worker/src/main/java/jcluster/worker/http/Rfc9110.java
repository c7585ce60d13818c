package jcluster.worker.http;

/** Character classes and forms of RFC 9110 and RFC 9112 that requests are checked against. */
final class Rfc9110 {
    private static final boolean[] TCHAR = new boolean[128];

    static {
        for (char c = '0'; c <= '9'; c++) {
            TCHAR[c] = true;
        }
        for (char c = 'a'; c <= 'z'; c++) {
            TCHAR[c] = true;
            TCHAR[c - 32] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TCHAR[c] = true;
        }
    }

    private Rfc9110() {
    }

    static boolean isTokenChar(char c) {
        return c < 128 && TCHAR[c];
    }

    /** token = 1*tchar */
    static boolean isToken(CharSequence s) {
        if (s.length() == 0) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (!isTokenChar(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /** qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4) */
    static boolean isQdtext(char c) {
        return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e)
                || (c >= 0x80 && c <= 0xff);
    }

    /** what may follow the backslash of a quoted-pair: HTAB / SP / VCHAR / obs-text */
    static boolean isQuotedPairChar(char c) {
        return c == '\t' || (c >= 0x20 && c <= 0x7e) || (c >= 0x80 && c <= 0xff);
    }

    /**
     * request-target (RFC 9112 §3.2): origin-form ("/…"), absolute-form ("scheme://…"), authority-form only with
     * CONNECT and asterisk-form only with OPTIONS; visible ASCII only, and no fragment ({@code #}), which is part of
     * no form.
     */
    static boolean isRequestTarget(String method, String target) {
        if (target.isEmpty()) {
            return false;
        }
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c <= 0x20 || c >= 0x7f || c == '#') {
                return false;
            }
        }
        if (method.equals("CONNECT")) {
            return target.indexOf('/') < 0 && target.indexOf(':') > 0;
        }
        if (target.equals("*")) {
            return method.equals("OPTIONS");
        }
        if (target.charAt(0) == '/') {
            return true;
        }
        int colon = target.indexOf("://");
        return colon > 0 && isToken(target.substring(0, colon));
    }

    /**
     * Host = uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2): an IP-literal in brackets or a reg-name of
     * unreserved, sub-delims and percent-escapes (which covers IPv4 addresses), then digits after a colon. Empty is
     * allowed: it is what a client sends for a target without an authority. No whitespace, list, userinfo or path.
     */
    static boolean isHost(String host) {
        int port;
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            if (close < 0) {
                return false;
            }
            for (int i = 1; i < close; i++) {
                char c = host.charAt(i);
                if (!(Character.digit(c, 16) >= 0 || c == ':' || c == '.' || isUnreserved(c) || isSubDelim(c))) {
                    return false;
                }
            }
            port = close + 1;
            if (port < host.length() && host.charAt(port) != ':') {
                return false;
            }
        } else {
            port = host.indexOf(':');
            int end = port < 0 ? host.length() : port;
            for (int i = 0; i < end; i++) {
                char c = host.charAt(i);
                if (c == '%') {
                    if (i + 2 >= end || Character.digit(host.charAt(i + 1), 16) < 0
                            || Character.digit(host.charAt(i + 2), 16) < 0) {
                        return false;
                    }
                    i += 2;
                } else if (!isUnreserved(c) && !isSubDelim(c)) {
                    return false;
                }
            }
            if (port < 0) {
                return true;
            }
        }
        for (int i = port + 1; i < host.length(); i++) {
            if (host.charAt(i) < '0' || host.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    private static boolean isUnreserved(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
                || c == '_' || c == '~';
    }

    /** sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "=", but a comma makes a list */
    private static boolean isSubDelim(char c) {
        return "!$&'()*+;=".indexOf(c) >= 0;
    }
}
