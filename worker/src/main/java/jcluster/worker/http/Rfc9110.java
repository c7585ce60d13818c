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

    /** token = 1*tchar */
    static boolean isToken(CharSequence s) {
        if (s.length() == 0) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 128 || !TCHAR[c]) {
                return false;
            }
        }
        return true;
    }

    /**
     * request-target (RFC 9112 §3.2): origin-form ("/…"), absolute-form ("scheme://…"), authority-form only with
     * CONNECT and asterisk-form only with OPTIONS; visible ASCII only.
     */
    static boolean isRequestTarget(String method, String target) {
        if (target.isEmpty()) {
            return false;
        }
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
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

    /** Host = uri-host [ ":" port ]: no whitespace, no commas (a list), no path, no userinfo. */
    static boolean isHost(String host) {
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c <= 0x20 || c >= 0x7f || c == ',' || c == '/' || c == '@' || c == '?' || c == '#' || c == '\\') {
                return false;
            }
        }
        return true;
    }
}
