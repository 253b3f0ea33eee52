#!/usr/bin/env bash
# The same message stored twice, as mail exports do (DESIGN §5): a copy in
# another folder with another Message-ID, shifted by hours, is one
# interaction at the earlier time; two messages of one folder never are
# copies of each other; a different subject or other recipients are not
# copies either.
. "$(dirname "$0")/lib.sh"

# msg DIR NAME DATE FROM TO SUBJECT MESSAGE-ID
msg() {
	mkdir -p "$1/cur" "$1/new" "$1/tmp"
	printf 'Date: %s\nFrom: %s\nTo: %s\nSubject: %s\nMessage-ID: <%s>\n\nhi\n' \
		"$3" "$4" "$5" "$6" "$7" >"$1/cur/$2:2,S"
}
A=$TMP/sent_mail B=$TMP/sent_items
# A thread of two, sent by the delegate into one folder and kept by the
# leader's client in the other, ten hours later and under other ids.
msg "$A" 1 "Tue, 17 Nov 2026 03:10:00 -0700" sam.assistant@example.com "Wen <wen@example.com>" "Mailing address" a1@x
msg "$B" 1 "Tue, 17 Nov 2026 13:10:00 -0700" alex@example.com "wen@example.com" "Mailing address" b1@y
msg "$A" 2 "Wed, 18 Nov 2026 09:14:00 -0700" sam.assistant@example.com "wen@example.com, priya@example.com" "Dinner Monday" a2@x
msg "$B" 2 "Wed, 18 Nov 2026 19:14:00 -0700" alex@example.com "Priya <priya@example.com>, wen@example.com" "  dinner   MONDAY " b2@y
# Three replies on one day in the first folder, two in the second: the
# second folder's are copies of two of them, never all three of one.
for k in 3 4 5; do
	msg "$A" $k "Thu, 19 Nov 2026 0$k:00:00 -0700" alex@example.com "jo@example.com" "Re: plan" a$k@x
done
for k in 3 4; do
	msg "$B" $k "Thu, 19 Nov 2026 1$k:00:00 -0700" alex@example.com "jo@example.com" "Re: plan" b$k@y
done
# Not copies: another subject, other recipients, more than a day apart.
msg "$B" 6 "Tue, 17 Nov 2026 13:10:00 -0700" alex@example.com "wen@example.com" "Another address" b6@y
msg "$B" 7 "Wed, 18 Nov 2026 19:14:00 -0700" alex@example.com "wen@example.com" "Dinner Monday" b7@y
msg "$B" 8 "Wed, 25 Nov 2026 13:10:00 -0700" alex@example.com "wen@example.com" "Mailing address" b8@y

write_config "$TMP/c.ini" "sent = maildir:$A" "sent = maildir:$B"
run 0 -c "$TMP/c.ini" -v ingest --now $NOW
expect_grep "alex: 12 messages read, 8 new interactions, 4 duplicates" "$TMP/err"
run 0 -c "$TMP/c.ini" interactions --leader alex --now $NOW --format csv
cut -d, -f1,5,6 "$TMP/out" | sed "s|$TMP/||g" >"$TMP/got"
cat >"$TMP/want" <<TXT
time,participants,source
2026-11-17T10:10:00Z,wen@example.com,maildir:sent_mail
2026-11-17T20:10:00Z,wen@example.com,maildir:sent_items
2026-11-18T16:14:00Z,priya@example.com wen@example.com,maildir:sent_mail
2026-11-19T02:14:00Z,wen@example.com,maildir:sent_items
2026-11-19T10:00:00Z,jo@example.com,maildir:sent_mail
2026-11-19T11:00:00Z,jo@example.com,maildir:sent_mail
2026-11-19T12:00:00Z,jo@example.com,maildir:sent_mail
2026-11-25T20:10:00Z,wen@example.com,maildir:sent_items
TXT
diff -u "$TMP/want" "$TMP/got" >&2 || fail "copies were not counted once"

# Read again, and in the other order: the same interactions.
run 0 -c "$TMP/c.ini" -v ingest --now $NOW
expect_grep "alex: 0 messages read" "$TMP/err"
rm "$TMP/digest.db"*
write_config "$TMP/c.ini" "sent = maildir:$B" "sent = maildir:$A"
run 0 -c "$TMP/c.ini" ingest --now $NOW
run 0 -c "$TMP/c.ini" interactions --leader alex --now $NOW --format csv
[ "$(cut -d, -f1,5 "$TMP/out")" = "$(cut -d, -f1,2 "$TMP/want")" ] ||
	fail "the order of the sources changed the interactions: $(cat "$TMP/out")"
