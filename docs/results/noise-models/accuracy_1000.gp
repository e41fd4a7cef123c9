# accuracy_1000.gp -- Best validation accuracy vs labels poisoned (1000 training items)
# Written by `poisonfarm report`; restyle and rerun with: gnuplot accuracy_1000.gp
# Data: accuracy_1000.dat (accuracies as fractions; this script shows them in %).
reset
set encoding utf8
set terminal pngcairo size 1000,620 noenhanced font "sans,12"
set output "accuracy_1000.png"
set grid lc rgb "#dddddd"
set key outside right top noenhanced
set style fill transparent solid 0.18 noborder
set title "Best validation accuracy vs labels poisoned (1000 training items)"
set xlabel "training labels poisoned (%)"
set ylabel "accuracy (%)"
set xrange [0:100]
set xtics 10
set yrange [0:100]
set ytics 10
set key outside right top noenhanced
plot \
  "accuracy_1000.dat" index 0 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "accuracy_1000.dat" index 1 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "accuracy_1000.dat" index 2 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "accuracy_1000.dat" index 3 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "accuracy_1000.dat" index 4 using 1:($3*100):($4*100) with filledcurves lc rgb "#1f77b4" notitle, \
  "accuracy_1000.dat" index 5 using 1:($3*100):($4*100) with filledcurves lc rgb "#2ca02c" notitle, \
  "accuracy_1000.dat" index 6 using 1:($3*100):($4*100) with filledcurves lc rgb "#2ca02c" notitle, \
  "accuracy_1000.dat" index 7 using 1:($3*100):($4*100) with filledcurves lc rgb "#2ca02c" notitle, \
  "accuracy_1000.dat" index 8 using 1:($3*100):($4*100) with filledcurves lc rgb "#2ca02c" notitle, \
  "accuracy_1000.dat" index 9 using 1:($3*100):($4*100) with filledcurves lc rgb "#2ca02c" notitle, \
  keyentry with points pt 6 ps 2 lc rgb "#000000" title "collapsed: one class took >= 90 % of the predictions", \
  "accuracy_1000.dat" index 0 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 1 lw 2 pt 7 ps 0.7 title "mnist random", \
  "accuracy_1000.dat" index 0 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "accuracy_1000.dat" index 1 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 2 lw 2 pt 5 ps 0.7 title "mnist biased", \
  "accuracy_1000.dat" index 1 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "accuracy_1000.dat" index 2 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 3 lw 2 pt 9 ps 0.7 title "mnist first_wrong", \
  "accuracy_1000.dat" index 2 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "accuracy_1000.dat" index 3 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 4 lw 2 pt 11 ps 0.7 title "mnist pairflip", \
  "accuracy_1000.dat" index 3 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "accuracy_1000.dat" index 4 using 1:($2*100) with linespoints lc rgb "#1f77b4" dt 5 lw 2 pt 13 ps 0.7 title "mnist asymmetric", \
  "accuracy_1000.dat" index 4 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#1f77b4" notitle, \
  "accuracy_1000.dat" index 5 using 1:($2*100) with linespoints lc rgb "#2ca02c" dt 1 lw 2 pt 7 ps 0.7 title "cifar10 random", \
  "accuracy_1000.dat" index 5 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle, \
  "accuracy_1000.dat" index 6 using 1:($2*100) with linespoints lc rgb "#2ca02c" dt 2 lw 2 pt 5 ps 0.7 title "cifar10 biased", \
  "accuracy_1000.dat" index 6 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle, \
  "accuracy_1000.dat" index 7 using 1:($2*100) with linespoints lc rgb "#2ca02c" dt 3 lw 2 pt 9 ps 0.7 title "cifar10 first_wrong", \
  "accuracy_1000.dat" index 7 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle, \
  "accuracy_1000.dat" index 8 using 1:($2*100) with linespoints lc rgb "#2ca02c" dt 4 lw 2 pt 11 ps 0.7 title "cifar10 pairflip", \
  "accuracy_1000.dat" index 8 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle, \
  "accuracy_1000.dat" index 9 using 1:($2*100) with linespoints lc rgb "#2ca02c" dt 5 lw 2 pt 13 ps 0.7 title "cifar10 asymmetric", \
  "accuracy_1000.dat" index 9 using 1:($6>0 ? $2*100 : NaN) with points pt 6 ps 2 lc rgb "#2ca02c" notitle
set terminal svg size 1000,620 dynamic noenhanced font "sans,12"
set output "accuracy_1000.svg"
replot
set output
