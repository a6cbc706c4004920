# Sourced by bin/run and bin/test after bin/_venv.sh: compile the translation catalogues
# (locale/<language>/LC_MESSAGES/django.po) into the .mo files Django reads, when a .po changed.
# Needs GNU gettext's msgfmt (Debian: apt-get install gettext).
if ! command -v msgfmt >/dev/null; then
    echo "msgfmt is missing: install GNU gettext (Debian: apt-get install gettext)" >&2
    exit 1
fi
for po in locale/*/LC_MESSAGES/django.po; do
    if [ ! -f "${po%.po}.mo" ] || [ "$po" -nt "${po%.po}.mo" ]; then
        python manage.py compilemessages --ignore '.venv' --ignore 'var' -v 0
        break
    fi
done
