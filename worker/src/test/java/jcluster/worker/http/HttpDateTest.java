package jcluster.worker.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.LocalDateTime;
import java.time.ZoneOffset;

import static org.junit.jupiter.api.Assertions.*;

@Timeout(10)
class HttpDateTest {
    /** RFC 9110 §5.6.7's example: Sun, 06 Nov 1994 08:49:37 GMT. */
    static final long EXAMPLE = 784111777;

    @Test
    void formatsAnImfFixdateWithATwoDigitDay() {
        assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", HttpDate.format(EXAMPLE));
        assertEquals("Thu, 01 Jan 1970 00:00:00 GMT", HttpDate.format(0));
        for (int day = 1; day <= 9; day++) {
            long t = LocalDateTime.of(2026, 12, day, 7, 5, 3).toEpochSecond(ZoneOffset.UTC);
            String d = HttpDate.format(t);
            assertTrue(d.matches("[A-Z][a-z]{2}, 0" + day + " Dec 2026 07:05:03 GMT"), d);
            assertEquals(t, HttpDate.parse(d), d);
        }
    }

    @Test
    void readsTheThreeFormsOfRfc9110() {
        assertEquals(EXAMPLE, HttpDate.parse("Sun, 06 Nov 1994 08:49:37 GMT"));
        assertEquals(EXAMPLE, HttpDate.parse("Sunday, 06-Nov-94 08:49:37 GMT"));
        assertEquals(EXAMPLE, HttpDate.parse("Sun Nov  6 08:49:37 1994"));
        assertEquals(EXAMPLE + 86400 * 4, HttpDate.parse("Thu Nov 10 08:49:37 1994"));
    }

    @Test
    void anRfc850YearMoreThanFiftyYearsAheadIsInThePast() {
        assertEquals(2026, year(HttpDate.parse("Tuesday, 01-Dec-26 00:00:00 GMT", 2026)));
        assertEquals(2076, year(HttpDate.parse("Tuesday, 01-Dec-76 00:00:00 GMT", 2026)));
        assertEquals(1977, year(HttpDate.parse("Wednesday, 01-Dec-77 00:00:00 GMT", 2026)));
    }

    private static int year(Long epochSecond) {
        return LocalDateTime.ofEpochSecond(epochSecond, 0, ZoneOffset.UTC).getYear();
    }

    @Test
    void anythingElseIsNotADate() {
        for (String bad : new String[] {"Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 UTC",
                "sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 nov 1994 08:49:37 GMT", "Sun, 31 Feb 1994 08:49:37 GMT",
                "Sun, 06 Nov 1994 24:49:37 GMT", "Sun, 06 Nov 1994 08:49 GMT", "Sunday, 06-Nov-1994 08:49:37 GMT",
                "Sun Nov 6 08:49:37 1994", "Sun Nov 06 08:49:37 94", "784111777", "", "yesterday",
                "Sun, 06 Nov 1994 08:49:37 GMT ", "Sun, 0x Nov 1994 08:49:37 GMT"}) {
            assertNull(HttpDate.parse(bad), bad);
        }
        assertNull(HttpDate.parse(null));
    }
}
