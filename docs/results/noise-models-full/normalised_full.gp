# normalised_full.gp -- Accuracy relative to clean accuracy vs labels poisoned (full training sets)
# Written by `poisonfarm report`; restyle and rerun with: gnuplot normalised_full.gp
# Data: normalised_full.dat (accuracies as fractions; this script shows them in %).
reset
set encoding utf8
set terminal pngcairo size 1000,620 noenhanced font "sans,12"
set output "normalised_full.png"
set grid lc rgb "#dddddd"
set key outside right top noenhanced
set style fill transparent solid 0.18 noborder
set title "Accuracy relative to clean accuracy vs labels poisoned (full training sets)"
set xlabel "training labels poisoned (%)"
set ylabel "accuracy / clean accuracy (%)"
set xrange [0:100]
set xtics 10
set yrange [0:*]
set ytics autofreq
set key outside right top noenhanced
plot \
  "normalised_full.dat" index 0 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "normalised_full.dat" index 1 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "normalised_full.dat" index 0 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 4 lw 2 pt 11 ps 0.7 title "mnist pairflip", \
  "normalised_full.dat" index 1 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 5 lw 2 pt 13 ps 0.7 title "mnist asymmetric"
set terminal svg size 1000,620 dynamic noenhanced font "sans,12"
set output "normalised_full.svg"
replot
set output
