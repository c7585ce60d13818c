package jcluster.worker.http;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * HTTP dates (RFC 9110 §5.6.7), the one place the server writes and reads them: {@code Date}, {@code Last-Modified}
 * and the conditional request fields.
 * <ul>
 *   <li>Out: IMF-fixdate, {@code Sun, 06 Nov 1994 08:49:37 GMT}, always two digits for the day. (The JDK's
 *   {@code RFC_1123_DATE_TIME} writes {@code Sun, 6 Nov 1994}, which is not an IMF-fixdate.)</li>
 *   <li>In: IMF-fixdate and the two obsolete forms a recipient must accept, RFC 850
 *   ({@code Sunday, 06-Nov-94 08:49:37 GMT}) and asctime ({@code Sun Nov  6 08:49:37 1994}), to the letter of
 *   their grammar; anything else is not a date, and a field holding it is ignored as the RFC says.</li>
 * </ul>
 */
public final class HttpDate {
    private static final String[] DAYS = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    private static final String[] LONG_DAYS = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
            "Sunday"};
    private static final String[] MONTHS = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
            "Nov", "Dec"};

    private HttpDate() {
    }

    /** The IMF-fixdate of this second (years 0 to 9999). */
    public static String format(long epochSecond) {
        LocalDateTime t = LocalDateTime.ofEpochSecond(epochSecond, 0, ZoneOffset.UTC);
        StringBuilder sb = new StringBuilder(29);
        sb.append(DAYS[t.getDayOfWeek().ordinal()]).append(", ");
        digits(sb, t.getDayOfMonth(), 2).append(' ').append(MONTHS[t.getMonthValue() - 1]).append(' ');
        digits(sb, t.getYear(), 4).append(' ');
        digits(sb, t.getHour(), 2).append(':');
        digits(sb, t.getMinute(), 2).append(':');
        return digits(sb, t.getSecond(), 2).append(" GMT").toString();
    }

    private static StringBuilder digits(StringBuilder sb, int value, int width) {
        String s = Integer.toString(value);
        for (int i = s.length(); i < width; i++) {
            sb.append('0');
        }
        return sb.append(s);
    }

    /** The second an HTTP date names, or null if {@code s} is none of the three forms. */
    public static Long parse(String s) {
        return parse(s, LocalDate.now(ZoneOffset.UTC).getYear());
    }

    /** {@code thisYear} decides the century of an RFC 850 date. */
    static Long parse(String s, int thisYear) {
        if (s == null) {
            return null;
        }
        try {
            int comma = s.indexOf(',');
            if (comma == 3) {
                return imfFixdate(s);
            }
            if (comma > 3) {
                return rfc850(s, comma, thisYear);
            }
            return asctime(s);
        } catch (DateTimeException | IndexOutOfBoundsException e) {
            return null;
        }
    }

    /** {@code Sun, 06 Nov 1994 08:49:37 GMT} */
    private static Long imfFixdate(String s) {
        if (s.length() != 29 || index(DAYS, s.substring(0, 3)) < 0 || s.charAt(4) != ' ' || s.charAt(7) != ' '
                || s.charAt(11) != ' ' || s.charAt(16) != ' ' || !s.endsWith(" GMT")) {
            return null;
        }
        return of(number(s, 12, 4), index(MONTHS, s.substring(8, 11)), number(s, 5, 2), s, 17);
    }

    /** {@code Sunday, 06-Nov-94 08:49:37 GMT}: a year more than 50 years ahead is the century before's. */
    private static Long rfc850(String s, int comma, int thisYear) {
        int d = comma + 2;
        if (index(LONG_DAYS, s.substring(0, comma)) < 0 || s.length() != d + 22 || s.charAt(comma + 1) != ' '
                || s.charAt(d + 2) != '-' || s.charAt(d + 6) != '-' || s.charAt(d + 9) != ' '
                || !s.endsWith(" GMT")) {
            return null;
        }
        int yy = number(s, d + 7, 2);
        int year = thisYear - Math.floorMod(thisYear, 100) + yy;
        if (year > thisYear + 50) {
            year -= 100;
        }
        return of(year, index(MONTHS, s.substring(d + 3, d + 6)), number(s, d, 2), s, d + 10);
    }

    /** {@code Sun Nov  6 08:49:37 1994}: the day is two digits or a space and one digit. */
    private static Long asctime(String s) {
        if (s.length() != 24 || index(DAYS, s.substring(0, 3)) < 0 || s.charAt(3) != ' ' || s.charAt(7) != ' '
                || s.charAt(10) != ' ' || s.charAt(19) != ' ') {
            return null;
        }
        int day = s.charAt(8) == ' ' ? number(s, 9, 1) : number(s, 8, 2);
        return of(number(s, 20, 4), index(MONTHS, s.substring(4, 7)), day, s, 11);
    }

    /** The date with the {@code HH:MM:SS} at {@code time}; a leap second (60) is the second before it. */
    private static Long of(int year, int month, int day, String s, int time) {
        if (month < 0 || s.charAt(time + 2) != ':' || s.charAt(time + 5) != ':') {
            return null;
        }
        int second = Math.min(number(s, time + 6, 2), 59);
        return LocalDateTime.of(year, month + 1, day, number(s, time, 2), number(s, time + 3, 2), second)
                .toEpochSecond(ZoneOffset.UTC);
    }

    /** The {@code n} ASCII digits at {@code at}; throws on anything else. */
    private static int number(String s, int at, int n) {
        int v = 0;
        for (int i = at; i < at + n; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                throw new DateTimeException("not a digit: " + c);
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    private static int index(String[] names, String name) {
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }
}
