# bash completion for digest(1).
# Installed as share/bash-completion/completions/digest; needs nothing
# from the bash-completion package.  The --leader ids are the [leader ID]
# sections of the configuration digest would read: -c FILE on the command
# line, else $DIGEST_CONFIG, else ${XDG_CONFIG_HOME:-~/.config}/digest/digest.ini.

_digest_commands="run preview ingest contacts interactions people snooze
ignore cadence note merge check version help"
_digest_global="-c --config -v --verbose -q --quiet --now -V --version -h --help"

# _digest_leaders CONFIG: the leader ids of CONFIG, one per line.
_digest_leaders()
{
	[ -r "$1" ] || return 0
	sed -n 's/^[[:space:]]*\[[[:space:]]*leader[[:space:]][[:space:]]*\([^]]*[^][:space:]]\)[[:space:]]*\].*/\1/p' "$1" 2>/dev/null
}

# _digest_options COMMAND: the options of COMMAND, beyond the global ones.
_digest_options()
{
	case $1 in
	run) echo "--dry-run --leader --force --out --shard" ;;
	preview) echo "--leader --format" ;;
	ingest) echo "--leader" ;;
	contacts) echo "--leader --neglected --sort --format" ;;
	interactions) echo "--leader --since --until --format" ;;
	people) echo "--leader --format" ;;
	snooze | cadence | note) echo "--leader" ;;
	ignore | merge) echo "--leader --undo" ;;
	esac
}

# _digest_formats COMMAND: the values of --format.
_digest_formats()
{
	case $1 in
	preview) echo "text html json eml" ;;
	contacts) echo "table json csv" ;;
	interactions) echo "json csv" ;;
	people) echo "table json" ;;
	esac
}

_digest()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=
	local cmd= config= i w npos=0
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# bash splits --opt=VALUE at the "=" (COMP_WORDBREAKS): the option
	# is then the word before the "=".
	if [ "$prev" = "=" ] && [ "$COMP_CWORD" -gt 1 ]; then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	elif [ "$cur" = "=" ]; then
		cur=
	fi
	COMPREPLY=()

	# The command, and -c FILE, from the words before the cursor.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		# The value of an option, as "--opt VALUE" or "--opt = VALUE".
		local skip=1
		[ "${COMP_WORDS[i + 1]:-}" = "=" ] && skip=2
		case $w in
		-c | --config) config=${COMP_WORDS[i + skip]:-}; ((i += skip)) ;;
		--config=*) config=${w#--config=} ;;
		-c?*) config=${w#-c} ;;
		--now | --leader | --format | --sort | --out | --shard | --since | --until)
			((i += skip)) ;;
		-*) ;;
		*) if [ -z "$cmd" ]; then cmd=$w; else npos=$((npos + 1)); fi ;;
		esac
	done
	if [ -z "$config" ]; then
		config=${DIGEST_CONFIG:-${XDG_CONFIG_HOME:-$HOME/.config}/digest/digest.ini}
	fi
	# As typed: quotes and a leading ~ are the shell's, not the file's.
	config=${config#[\"\']}
	config=${config%[\"\']}
	case $config in
	"~"/*) config=$HOME/${config#"~/"} ;;
	esac

	case $prev in
	-c | --config)
		# One candidate per line, so that names with blanks stay whole.
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0 ;;
	--out)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return 0 ;;
	--leader)
		COMPREPLY=($(compgen -W "$(_digest_leaders "$config")" -- "$cur"))
		return 0 ;;
	--format)
		COMPREPLY=($(compgen -W "$(_digest_formats "$cmd")" -- "$cur"))
		return 0 ;;
	--sort)
		COMPREPLY=($(compgen -W "overdue name last" -- "$cur"))
		return 0 ;;
	--now | --shard | --since | --until)
		return 0 ;;
	esac

	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$_digest_global" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$_digest_commands" -- "$cur"))
		fi
		return 0
	fi
	case $cmd in
	help)
		COMPREPLY=($(compgen -W "$_digest_commands" -- "$cur"))
		return 0 ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_digest_options "$cmd") --now -c --config -v --verbose -q --quiet --help" -- "$cur"))
		return 0
	fi
	# The word after the address: the value that undoes.
	if [ "$npos" = 1 ]; then
		case $cmd in
		snooze) COMPREPLY=($(compgen -W "off" -- "$cur")) ;;
		cadence) COMPREPLY=($(compgen -W "auto" -- "$cur")) ;;
		esac
	fi
	return 0
}
complete -F _digest digest
